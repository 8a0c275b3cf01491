"""Helpers of the service tests: a TestClient over a job store, and polling a job until it ends."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from text3d.serve.app import create_app
from text3d.serve.jobs import JobStore

FAST = {"backend": "procedural", "augment": "none", "options": {"resolution": 16, "gif": False}}
"""A job that takes a fraction of a second per item: procedural backend, no augmenter, 16-pixel views."""
LIMIT_S = 120.0
"""How long a test waits for a job before it fails (a hang, never a timing check)."""

def make_client(data: Path, token: str | None = None, cors: tuple[str, ...] = (), **store_options) -> TestClient:
    """A client of a fresh service on ``data`` (use it in ``with`` to start the workers)."""
    store = JobStore(data, **store_options)
    return TestClient(create_app(store, token=token, cors_origins=cors))

def wait_until_finished(client: TestClient, job_id: str, headers: dict | None = None) -> dict:
    """Poll the job until it is done, failed or cancelled; its last status."""
    deadline = time.monotonic() + LIMIT_S
    while time.monotonic() < deadline:
        status = client.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if status["state"] in ("done", "failed", "cancelled"):
            return status
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {status}")

@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """(client, job id, status) of a finished two-item job with gif and two view protocols."""
    data = tmp_path_factory.mktemp("serve")
    with make_client(data) as client:
        body = {**FAST, "prompts": ["red chair", "blue table"], "seed": 3,
                "options": {"resolution": 16, "gif": True, "views": ["canonical4", "depth20"]}}
        answer = client.post("/v1/jobs", json=body)
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["id"]
        yield client, job_id, wait_until_finished(client, job_id)
