"""``text3d serve`` on the command line: cheap help, one-line refusals of a bad or busy --data."""

from __future__ import annotations

import subprocess
import sys

from text3d.serve.jobs import JobStore


def text3d(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "text3d", *args], capture_output=True, text=True, timeout=120)


def test_help_lists_serve_without_loading_the_web_stack():
    code = ("import sys; sys.argv = ['text3d', '--help']; from text3d.cli import main; main(); "
            "print('heavy:', sorted(m for m in ('fastapi', 'uvicorn', 'torch') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "serve" in proc.stdout and "heavy: []" in proc.stdout, proc.stdout + proc.stderr

def test_serve_help_names_its_options():
    proc = text3d("serve", "--help")
    assert proc.returncode == 0
    for option in ("--host", "--port", "--workers", "--queue-size", "--token", "--data", "--cors-origin"):
        assert option in proc.stdout

def test_a_data_path_that_is_a_file_is_refused_in_one_line(tmp_path):
    (tmp_path / "data").write_text("x")
    proc = text3d("serve", "--data", str(tmp_path / "data"), "--port", "0")
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        f"text3d: error: --data {tmp_path / 'data'}: is a file; give a folder"]

def test_a_data_folder_in_use_by_another_service_is_refused(tmp_path):
    store = JobStore(tmp_path / "data")
    store.start()
    try:
        proc = text3d("serve", "--data", str(tmp_path / "data"), "--port", "0")
    finally:
        store.close()
    assert proc.returncode == 5 and "in use by" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
