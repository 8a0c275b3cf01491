"""``text3d serve`` on the command line: cheap help, one-line refusals of a bad or busy --data, --host or
--port, and the real port of ``--port 0`` in the banner."""

from __future__ import annotations

import re
import select
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.serve.service import LIMIT_S, kill_service
from text3d.errors import InputError
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
        f"text3d: error: --data {tmp_path / 'data'}: is a file; give a folder for the service"]


def test_a_data_folder_holding_other_files_is_refused_and_left_alone(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.jsonl").write_text("")  # a run folder is not the service's
    with pytest.raises(InputError, match="--data .*run: holds files that are not the service's .'manifest.jsonl'"):
        JobStore(run).start()
    assert sorted(p.name for p in run.iterdir()) == ["manifest.jsonl"]
    for _ in range(2):  # its own folder (jobs/ and the lock) reopens
        store = JobStore(tmp_path / "data")
        store.start()
        store.close()

def test_a_data_folder_in_use_by_another_service_is_refused(tmp_path):
    store = JobStore(tmp_path / "data")
    store.start()
    try:
        proc = text3d("serve", "--data", str(tmp_path / "data"), "--port", "0")
    finally:
        store.close()
    assert proc.returncode == 5 and "in use by" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "stop it first, or give another folder" in proc.stderr and "--wait" not in proc.stderr  # serve has none


def test_a_port_in_use_is_refused_in_one_line_before_the_banner(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = text3d("serve", "--data", str(tmp_path / "data"), "--port", str(port))
    assert proc.returncode != 0 and proc.stderr.strip().splitlines() == [
        f"text3d: error: --port {port}: address 127.0.0.1:{port} is already in use"]
    assert not (tmp_path / "data").exists()  # refused before the job store was opened


def test_a_host_that_is_no_local_address_is_refused_in_one_line(tmp_path):
    proc = text3d("serve", "--data", str(tmp_path / "data"), "--host", "999.1.1.1", "--port", "0")
    assert proc.returncode != 0 and proc.stderr.strip().splitlines() == [
        "text3d: error: --host 999.1.1.1: not a local address or resolvable name"]


def test_port_zero_prints_the_port_it_listens_on(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "text3d", "serve", "--data", str(tmp_path / "data"),
                                "--port", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        banner = _first_line(process)
        match = re.search(r"API docs at http://127\.0\.0\.1:(\d+)/docs", banner)
        assert match and int(match.group(1)) != 0, banner
        deadline = time.monotonic() + LIMIT_S
        while True:  # the banner comes before uvicorn starts: wait for it to answer
            try:
                answer = httpx.get(f"http://127.0.0.1:{match.group(1)}/v1/health", timeout=5)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, banner
                time.sleep(0.2)
        assert answer.status_code == 200 and answer.json()["status"] == "ok"
    finally:
        kill_service(process)


def _first_line(process: subprocess.Popen) -> str:
    """The first line the process writes on stderr (fails the test after LIMIT_S, never hangs)."""
    ready, _, _ = select.select([process.stderr], [], [], LIMIT_S)
    assert ready, "text3d serve printed nothing"
    return process.stderr.readline()


@pytest.mark.parametrize("token", ["é€", "two words", " "])
def test_a_token_no_request_could_send_is_refused_in_one_line(tmp_path, token):
    proc = text3d("serve", "--data", str(tmp_path / "data"), "--port", "0", "--token", token)
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        "text3d: error: --token: use visible ASCII characters without spaces (no HTTP request could send this one)"]
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("origin", ["http://localhost:3000/", "localhost:3000", "http://localhost:3000/app",
                                    "ftp://example.org", "http://localhost:99999"])
def test_an_origin_no_browser_sends_is_refused_in_one_line(tmp_path, origin):
    proc = text3d("serve", "--data", str(tmp_path / "data"), "--port", "0", "--cors-origin", "https://example.org",
                  "--cors-origin", origin)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith(f"text3d: error: --cors-origin {origin!r}")
    assert not (tmp_path / "data").exists()


def test_origins_as_browsers_send_them_are_accepted():
    from text3d.cli.serve import check_origin

    for origin in ("*", "http://localhost:3000", "https://example.org", "http://[::1]:8080"):
        assert check_origin(origin) == origin
