"""Load, faults and bad input against a real ``text3d serve`` process on 127.0.0.1.

* 50 jobs posted at once to ``--workers 2`` all finish, and the peak resident memory of the service
  with its worker processes stays bounded: at most 2 workers run at a time, so the peak is the
  service plus two workers, whatever the number of jobs (measured 415 MB, sampled every 0.1 s; bound 1.5 GB);
* a worker process killed mid-job: the job runs again once (``retries``: 1), keeping its finished items
  (a killed service that restarts and resumes is tests/serve/test_serve_process.py);
* a corpus of 41 bad requests is answered 4xx with a one-line JSON ``detail``: never a 5xx, never a
  traceback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.serve.service import kill_service, start_service

LIMIT_S = 600.0
"""How long a test waits before it fails (a hang, never a timing check)."""
TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PEAK_BOUND_MB = 1500


def start(data: Path, workers: int, token: str | None = None) -> tuple[subprocess.Popen, str]:
    return start_service(data, "--workers", str(workers), "--queue-size", "64",
                         *(["--token", token] if token else []))


def tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants, in MB (from /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            parents[int(entry.name)] = int(fields[1])
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(rss.get(pid, 0) for pid in tree) / 2 ** 20


@pytest.mark.slow
def test_fifty_concurrent_jobs_on_two_workers_all_finish_with_bounded_memory(tmp_path):
    process, url = start(tmp_path / "data", workers=2)
    peak, running = [0.0], [True]

    def sample() -> None:
        while running[0]:
            peak[0] = max(peak[0], tree_rss_mb(process.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        body = {"backend": "procedural", "augment": "none", "options": {"resolution": 16, "gif": False}}
        with httpx.Client(base_url=url, timeout=30) as client:
            answers = []

            def post(k: int) -> None:
                answers.append(client.post("/v1/jobs", json={**body, "prompt": f"chair number {k}", "seed": k}))

            posters = [threading.Thread(target=post, args=(k,)) for k in range(50)]
            for thread in posters:
                thread.start()
            for thread in posters:
                thread.join(60)
            assert [a.status_code for a in answers] == [202] * 50, [a.text for a in answers if a.status_code != 202]
            ids = [a.json()["id"] for a in answers]
            deadline = time.monotonic() + LIMIT_S
            while time.monotonic() < deadline:
                states = [j["state"] for j in client.get("/v1/jobs").json()["jobs"]]
                if len(states) == 50 and all(s in ("done", "failed", "cancelled") for s in states):
                    break
                time.sleep(0.5)
            finals = [client.get(f"/v1/jobs/{job_id}").json() for job_id in ids]
    finally:
        running[0] = False
        sampler.join(5)
        kill_service(process)
    assert [f["state"] for f in finals] == ["done"] * 50
    assert all(f["progress"]["done"] == 1 for f in finals)
    print(f"peak resident memory of the service and its workers: {peak[0]:.0f} MB")
    assert 0 < peak[0] < PEAK_BOUND_MB


def worker_pids(service: int) -> list[int]:
    """The job worker processes (``text3d.serve.runner``) the service started."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == service \
                    and b"text3d.serve.runner" in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    return pids


def test_a_worker_killed_mid_job_is_retried_once_and_says_so(tmp_path):
    process, url = start(tmp_path / "data", workers=1)
    prompts = [f"{color} chair" for color in ("red", "blue", "green", "yellow", "white", "black", "orange", "pink")]
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            answer = client.post("/v1/jobs", json={"prompts": prompts, "backend": "procedural", "augment": "none",
                                                   "options": {"resolution": 16, "gif": True}})
            job_id = answer.json()["id"]
            deadline = time.monotonic() + LIMIT_S
            while client.get(f"/v1/jobs/{job_id}").json()["progress"]["done"] < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            workers = worker_pids(process.pid)
            assert len(workers) == 1
            run = tmp_path / "data" / "jobs" / job_id / "run"
            kept = {p.parent.name: p.stat().st_mtime_ns for p in (run / "items").glob("*/meta.json")}
            os.kill(workers[0], signal.SIGKILL)  # mid-job: an out-of-memory kill looks the same
            while (final := client.get(f"/v1/jobs/{job_id}").json())["state"] not in ("done", "failed") \
                    and time.monotonic() < deadline:
                time.sleep(0.2)
    finally:
        kill_service(process)
    assert final["state"] == "done" and final["retries"] == 1, final
    assert final["progress"]["done"] == len(prompts) and len(kept) < len(prompts)
    after = {p.parent.name: p.stat().st_mtime_ns for p in (run / "items").glob("*/meta.json")}
    assert {k: after[k] for k in kept} == kept  # the retry ran only the items the killed worker had not finished


def bad_requests(job_id: str) -> list[tuple[str, str, dict]]:
    """(method, path, httpx keyword arguments) of requests that must each get a 4xx."""
    good = {"prompt": "red chair", "backend": "procedural", "augment": "none"}
    json_type = {"Content-Type": "application/json", **AUTH}
    item = f"/v1/jobs/{job_id}/items"
    cases: list[tuple[str, str, dict]] = [
        ("POST", "/v1/jobs", {"content": b"{not json", "headers": json_type}),
        ("POST", "/v1/jobs", {"content": b'{"prompt": "chair",}', "headers": json_type}),
        ("POST", "/v1/jobs", {"content": b"", "headers": json_type}),
        ("POST", "/v1/jobs", {"content": b"\xff\xfe\x00garbage", "headers": json_type}),
        ("POST", "/v1/jobs", {"content": b"[1, 2, 3]", "headers": json_type}),
        ("POST", "/v1/jobs", {"content": b'"just a string"', "headers": json_type}),
        ("POST", "/v1/jobs", {"content": b'{"prompt": "' + b"a" * (10 * 2 ** 20) + b'"}', "headers": json_type}),
        ("POST", "/v1/jobs", {"json": {**good, "prompt": 42}}),
        ("POST", "/v1/jobs", {"json": {**good, "prompt": ["a", "b"]}}),
        ("POST", "/v1/jobs", {"json": {**good, "prompts": "red chair"}}),
        ("POST", "/v1/jobs", {"json": {**good, "seed": "zero"}}),
        ("POST", "/v1/jobs", {"json": {**good, "seed": 1.5}}),
        ("POST", "/v1/jobs", {"json": {**good, "seed": 10 ** 30}}),
        ("POST", "/v1/jobs", {"json": {**good, "options": "fast"}}),
        ("POST", "/v1/jobs", {"json": {**good, "options": {"resolution": "big"}}}),
        ("POST", "/v1/jobs", {"json": {**good, "options": {"cfg": "NaN"}}}),
        ("POST", "/v1/jobs", {"json": {**good, "backend": "no-such-backend"}}),
        ("POST", "/v1/jobs", {"json": {**good, "augment": "no-such-llm"}}),
        ("POST", "/v1/jobs", {"json": {**good, "backend": "../../etc/passwd"}}),
        ("POST", "/v1/jobs", {"json": {**good, "prompt": "\u0000\u0001\u0002"}}),
        ("POST", "/v1/jobs", {"json": {**good, "prompt": "\u202e\u200b\u200b  "}}),
        ("POST", "/v1/jobs", {"json": {**good, "prompt": "椅子" * 5000}}),
        ("POST", "/v1/jobs", {"content": b'{"prompt": "\\ud800 lone surrogate", "backend": "procedural"}',
                              "headers": json_type}),
        ("POST", "/v1/jobs", {"json": {**good, "prompt": "red\nchair\r"}}),
        ("POST", "/v1/jobs", {"json": {"backend": "procedural"}}),
        ("POST", "/v1/jobs", {"json": {**good, "unknown_field": 1}}),
        ("GET", "/v1/jobs/../../etc/passwd", {}),
        ("GET", "/v1/jobs/..%2F..%2Fetc%2Fpasswd", {}),
        ("GET", "/v1/jobs/%2e%2e", {}),
        ("DELETE", "/v1/jobs/..%2F" + job_id, {}),
        ("GET", "/v1/jobs/not-a-job-id/events", {}),
        ("GET", f"{item}/..%2F..%2Fjob.json/asset.glb", {}),
        ("GET", f"{item}/-1/asset.glb", {}),
        ("GET", f"{item}/99/asset.glb", {}),
        ("GET", f"{item}/0/..%2F..%2Fjob.json", {}),
        ("GET", f"{item}/0/views/..%2F..%2F..%2Fjob.json/000.png", {}),
        ("GET", f"{item}/0/views/canonical4/..%2F..%2Fmeta.json", {}),
        ("GET", f"{item}/0/views/canonical4/%00.png", {}),
        ("GET", "/v1/jobs", {"headers": {}}),  # no token
        ("GET", "/v1/jobs", {"headers": {"Authorization": "Bearer wrong"}}),
        ("POST", "/v1/jobs", {"json": good, "headers": {"Authorization": f"Basic {TOKEN}"}}),
    ]
    return [(m, p, kw if "headers" in kw else {**kw, "headers": AUTH}) for m, p, kw in cases]


def test_forty_one_bad_requests_get_a_4xx_json_error_never_a_5xx(tmp_path):
    process, url = start(tmp_path / "data", workers=1, token=TOKEN)
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            job = client.post("/v1/jobs", headers=AUTH, json={"prompt": "red chair", "backend": "procedural",
                                                               "augment": "none",
                                                               "options": {"resolution": 16, "gif": False}})
            assert job.status_code == 202, job.text
            cases = bad_requests(job.json()["id"])
            assert len(cases) >= 30
            for method, path, kwargs in cases:
                answer = client.request(method, path, **kwargs)
                where = f"{method} {path[:80]} {str(kwargs)[:120]}"
                assert 400 <= answer.status_code < 500, (where, answer.status_code, answer.text[:300])
                assert answer.headers["content-type"].startswith("application/json"), where
                detail = answer.json()["detail"]
                assert isinstance(detail, str) and detail and "\n" not in detail, (where, detail)
                assert "Traceback" not in answer.text and 'File "' not in answer.text, where
            assert client.get("/v1/health").status_code == 200  # still serving
    finally:
        kill_service(process)


def test_a_failed_workers_reason_is_its_own_error_not_a_warning_or_an_earlier_run(tmp_path):
    from text3d.serve.jobs import _failure

    log = tmp_path / "worker.log"
    log.write_text("text3d: error: an earlier run's failure\n")
    offset = log.stat().st_size
    with log.open("a") as handle:
        handle.write("text3d: error: the backend failed\nno toyworld category for 'cat'; generating 'teddy bear'\n")
    assert _failure(log, 4, 0, offset) == "text3d: error: the backend failed"
    assert _failure(log, -9, 1, offset) == "the worker process was killed by signal 9 (after 1 retry)"
    (tmp_path / "empty.log").write_text("")
    assert _failure(tmp_path / "empty.log", 3, 0) == "the worker process exited with code 3"
