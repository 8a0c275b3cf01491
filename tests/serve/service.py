"""A real ``text3d serve`` process for the tests that need one (restart, load, browser)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

LIMIT_S = 120.0
"""How long a test waits for the service before it fails (a hang, never a timing check)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_service(data: Path, *options: str, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """(process, base URL) of ``python -m text3d serve --data DATA OPTIONS…`` on ``port`` (a free one
    when omitted), in its own process group; returns once /v1/health answers."""
    port = port or free_port()
    process = subprocess.Popen([sys.executable, "-m", "text3d", "serve", "--port", str(port), "--data", str(data),
                                *options], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + LIMIT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()
        try:
            if httpx.get(f"{url}/v1/health", timeout=5).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    kill_service(process)
    raise AssertionError("text3d serve did not answer")


def kill_service(process: subprocess.Popen) -> None:
    """SIGKILL the service and everything it started (a crash or an out-of-memory kill looks the same)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(30)
    process.stderr.close()
