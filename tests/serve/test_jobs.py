"""The job store's worker processes: how many threads each may start."""

from __future__ import annotations

import os
import subprocess

from text3d.serve.jobs import JobStore


class _Launched(Exception):
    pass


def launched_environment(tmp_path, monkeypatch, workers: int) -> dict[str, str]:
    """The environment ``JobStore`` gives a job's worker process (the process is not started)."""
    seen: dict[str, str] = {}

    def popen(*args, env=None, **kwargs):
        seen.update(env)
        raise _Launched

    monkeypatch.setattr(subprocess, "Popen", popen)
    store = JobStore(tmp_path / "data", workers=workers)
    job = type("Job", (), {"folder": tmp_path, "id": "0" * 32})()
    try:
        store._launch(job)
    except _Launched:
        pass
    return seen


def test_concurrent_workers_share_the_cores_instead_of_each_taking_all(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "LP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    assert launched_environment(tmp_path, monkeypatch, 2)["OMP_NUM_THREADS"] == "2"
    assert launched_environment(tmp_path, monkeypatch, 4)["LP_NUM_THREADS"] == "1"
    assert launched_environment(tmp_path, monkeypatch, 8)["MKL_NUM_THREADS"] == "1"
    assert launched_environment(tmp_path, monkeypatch, 1)["OMP_NUM_THREADS"] == "4"


def test_the_users_own_thread_settings_win(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert launched_environment(tmp_path, monkeypatch, 2)["OMP_NUM_THREADS"] == "3"
