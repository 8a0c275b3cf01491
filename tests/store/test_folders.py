"""Run folders: a folder whose earlier run left only its settings is taken over by other settings."""

import pytest

from text3d.errors import SettingsMismatchError
from text3d.store.folders import RunFolder


def test_a_folder_holding_only_the_settings_of_a_failed_run_is_taken_over(tmp_path):
    run = RunFolder(tmp_path / "run")
    run.root.mkdir()
    run.claim({"task": "x", "llm": "ollama:nope"})
    run.write_config({"task": "x", "llm": "ollama:nope"})  # the run failed before it made anything
    assert run.claim({"task": "x", "llm": "embedded"}) == {}
    (run.root / "contexts.jsonl").write_text("{}\n")  # once it made something, other settings are refused
    with pytest.raises(SettingsMismatchError, match="llm differ"):
        run.claim({"task": "x", "llm": "other"})
