"""The reliability corpus: hostile and careless use of every command, run in-process.

Each case ends either with a non-zero exit code and exactly one clean line on stderr
(``text3d: error: …``, no traceback, no "internal error"), or with a documented success; and
no file the user already had is changed (:func:`snapshot` before, compare after).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import trimesh

from text3d.assets import Asset, save_asset
from text3d.cli import main


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXT3D_CACHE_DIR", str(tmp_path / "user-cache"))
    monkeypatch.setenv("TEXT3D_PROGRESS", "0")
    for name in ("OLLAMA_HOST", "OPENAI_BASE_URL", "OPENAI_API_KEY", "TEXT3D_LLM_TIMEOUT", "TEXT3D_DEBUG"):
        monkeypatch.delenv(name, raising=False)


class CLI:
    """Runs ``text3d ARGS`` in this process and checks how it ended."""

    def __init__(self, capsys) -> None:
        self.capsys = capsys

    def __call__(self, *args) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def fails(self, *args, code: int = 2, says: tuple[str, ...] = ()) -> str:
        """Run and assert a clean failure with ``code`` whose one line contains every ``says``."""
        got, _, err = self(*args)
        assert got == code, f"exit {got} (wanted {code}): {err}"
        assert_one_clean_line(err)
        for needle in says:
            assert needle in err, f"{needle!r} not in {err!r}"
        return err

    def succeeds(self, *args) -> str:
        got, out, err = self(*args)
        assert got == 0, err
        assert "Traceback" not in err and "internal error" not in err
        return out


def assert_one_clean_line(err: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"wanted one line, got {len(lines)}: {err!r}"
    assert lines[0].startswith("text3d: error: "), lines[0]
    assert "Traceback" not in err and "internal error" not in err


@pytest.fixture
def cli(capsys) -> CLI:
    return CLI(capsys)


def snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (a user's files before a command runs)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.endswith(".lock")}


def unchanged(before: dict[str, str], root: Path) -> bool:
    after = snapshot(root)
    return all(after.get(name) == digest for name, digest in before.items())


@pytest.fixture(scope="session")
def mesh_file(tmp_path_factory) -> Path:
    """A small colored box, y-up GLB."""
    box = trimesh.creation.box((0.8, 0.5, 0.4))
    colors = np.tile([0.8, 0.2, 0.1, 1.0], (len(box.vertices), 1))
    path = tmp_path_factory.mktemp("meshes") / "box.glb"
    save_asset(Asset(vertices=box.vertices, faces=box.faces, vertex_colors=colors), path)
    return path


@pytest.fixture
def user_files(tmp_path, mesh_file) -> Path:
    """A user's folder: a mesh, prompt files, notes, an unrelated folder."""
    root = tmp_path / "user"
    (root / "project").mkdir(parents=True)
    (root / "project" / "notes.txt").write_text("my notes\n")
    (root / "box.glb").write_bytes(mesh_file.read_bytes())
    (root / "prompts.txt").write_text("red chair\nblue car\n")
    (root / "other-prompts.txt").write_text("green tree\nyellow duck\n")
    (root / "results.csv").write_text("a,b\n1,2\n")
    return root
