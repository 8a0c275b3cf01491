"""Every prompts test gets its own cache folder and no LLM server settings from the environment."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXT3D_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TEXT3D_PROGRESS", "0")
    for name in ("OLLAMA_HOST", "OPENAI_BASE_URL", "OPENAI_API_KEY", "TEXT3D_LLM_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
