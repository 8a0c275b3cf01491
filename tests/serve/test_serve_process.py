"""The real ``text3d serve`` process: a job runs, its GLB downloads and parses, and a killed
service started again resumes the job without redoing or losing a finished item."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx

from tests.serve.service import free_port, kill_service, start_service
from text3d.assets.io import load_asset

LIMIT_S = 120.0
"""How long the test waits for a job before it fails (a hang, never a timing check)."""


def start(data: Path, port: int) -> subprocess.Popen:
    return start_service(data, "--workers", "1", port=port)[0]


def status(port: int, job_id: str) -> dict:
    return httpx.get(f"http://127.0.0.1:{port}/v1/jobs/{job_id}", timeout=10).json()

def test_a_killed_service_resumes_its_job_and_keeps_finished_items(tmp_path):
    data, port = tmp_path / "data", free_port()
    prompts = [f"{color} chair" for color in ("red", "blue", "green", "yellow", "white", "black",
                                              "orange", "purple", "pink", "brown", "grey", "tan")]
    body = {"prompts": prompts, "backend": "procedural", "augment": "none",
            "options": {"resolution": 16, "gif": True}}  # gif: a turntable makes each item take a while
    service = start(data, port)
    try:
        answer = httpx.post(f"http://127.0.0.1:{port}/v1/jobs", json=body, timeout=10)
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["id"]
        deadline = time.monotonic() + LIMIT_S
        while status(port, job_id)["progress"]["done"] < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        kill_service(service)
    run = data / "jobs" / job_id / "run"
    kept = {p.parent.name: p.stat().st_mtime_ns for p in (run / "items").glob("*/meta.json")}
    assert 1 <= len(kept) < len(prompts), f"{len(kept)} items were done when the service was killed"

    service = start(data, port)
    try:
        deadline = time.monotonic() + LIMIT_S
        while (final := status(port, job_id))["state"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert final["state"] == "done" and final["progress"]["done"] == len(prompts), final
        after = {p.parent.name: p.stat().st_mtime_ns for p in (run / "items").glob("*/meta.json")}
        assert {k: after[k] for k in kept} == kept  # finished items were neither redone nor lost
        glb = httpx.get(f"http://127.0.0.1:{port}/v1/jobs/{job_id}/items/{len(prompts) - 1}/asset.glb", timeout=10)
        assert glb.status_code == 200
        (tmp_path / "last.glb").write_bytes(glb.content)
        assert load_asset(tmp_path / "last.glb").n_faces > 0
    finally:
        kill_service(service)
