"""The REST service through FastAPI's TestClient: jobs, files, events, refusals, limits, token, CORS."""

from __future__ import annotations

import json
import time

import pytest

from tests.serve.conftest import FAST, LIMIT_S, make_client, wait_until_finished
from text3d.assets.io import load_asset
from text3d.serve.jobs import JOB_ID, JobNotFound
from text3d.store.locks import exclusive, folder_lock


def test_a_job_runs_to_done_with_per_item_progress_captions_and_stage_seconds(finished):
    client, job_id, status = finished
    assert JOB_ID.fullmatch(job_id)
    assert status["state"] == "done" and status["error"] is None
    assert status["progress"] == {"total": 2, "done": 2, "failed": 0, "pending": 0, "skipped": 0, "running": 0}
    assert [item["prompt"] for item in status["items"]] == ["red chair", "blue table"]
    for item in status["items"]:
        assert item["state"] == "done" and item["caption"] == item["prompt"]  # augment none: the caption is the prompt
        assert {"generate", "export", "render"} <= set(item["seconds"])
        assert {"asset.glb", "meta.json", "turntable.gif", "views/canonical4/000.png",
                "views/depth20/cameras.json"} <= set(item["files"])
    assert status["request"]["seed"] == 3


def test_the_job_is_listed(finished):
    client, job_id, _ = finished
    jobs = client.get("/v1/jobs").json()["jobs"]
    assert [j["id"] for j in jobs] == [job_id] and jobs[0]["progress"]["done"] == 2


def test_item_files_are_served_and_the_glb_parses(finished, tmp_path):
    client, job_id, _ = finished
    base = f"/v1/jobs/{job_id}/items/1"
    glb = client.get(base + "/asset.glb")
    assert glb.status_code == 200 and glb.headers["content-type"] == "model/gltf-binary"
    (tmp_path / "asset.glb").write_bytes(glb.content)
    assert load_asset(tmp_path / "asset.glb").n_faces > 0
    head = client.head(base + "/asset.glb")  # a size check before downloading (curl -I)
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(glb.content) and not head.content
    meta = client.get(base + "/meta.json").json()
    assert meta["prompt"] == "blue table" and meta["seed"] == 4  # item k uses seed + k
    assert client.get(base + "/turntable.gif").content[:4] == b"GIF8"
    assert client.get(base + "/views/canonical4/003.png").content[:8] == b"\x89PNG\r\n\x1a\n"
    cameras = client.get(base + "/views/depth20/cameras.json").json()
    assert len(cameras["views"]) == 20


def test_missing_items_and_files_are_404_with_one_line(finished):
    client, job_id, _ = finished
    for path in (f"/v1/jobs/{job_id}/items/2/asset.glb", f"/v1/jobs/{job_id}/items/-1/asset.glb",
                 f"/v1/jobs/{job_id}/items/0/views/clip8/000.png", f"/v1/jobs/{'0' * 32}",
                 f"/v1/jobs/{job_id}/items/0/views/canonical4/004.png"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert isinstance(answer.json()["detail"], str) and "\n" not in answer.json()["detail"]


def test_no_path_from_the_request_reaches_the_disk(finished):
    client, job_id, _ = finished
    store = client.app.state.store
    secret = store.data / "secret.txt"
    secret.write_text("SECRET")
    attempts = [
        f"/v1/jobs/{job_id}/items/0/views/canonical4/..%2F..%2F..%2F..%2F..%2Fsecret.txt",
        f"/v1/jobs/{job_id}/items/0/views/..%2F..%2F..%2F..%2F../secret.txt",
        f"/v1/jobs/{job_id}/items/0/views/canonical4/%2E%2E%2Fcameras.json",
        f"/v1/jobs/{job_id}/items/0/views/canonical4/cameras.json%00",
        "/v1/jobs/..%2F..%2Fsecret.txt",
        "/v1/jobs/../../secret.txt",
        f"/v1/jobs/{job_id}/../../secret.txt",
        f"/v1/jobs/{job_id}/items/0/..%2F..%2F..%2Fsecret.txt",
        f"/v1/jobs/{job_id.upper()}/items/0/asset.glb",
    ]
    for path in attempts:
        answer = client.get(path)
        assert answer.status_code in (404, 422) and b"SECRET" not in answer.content, (path, answer.status_code)
    for protocol, name in (("canonical4", "../meta.json"), ("..", "job.json"), ("canonical4", "../../../job.json"),
                           ("canonical4", "/etc/passwd"), (None, "../../../job.json"), (None, "views"),
                           ("canonical4", "../../../../../job.json")):  # job.json exists at both targets
        with pytest.raises(JobNotFound):
            store.item_file(job_id, 0, name, protocol=protocol)
    with pytest.raises(JobNotFound):
        store.get("../" + job_id)


def test_a_finished_job_cannot_be_cancelled(finished):
    client, job_id, _ = finished
    answer = client.delete(f"/v1/jobs/{job_id}")
    assert answer.status_code == 409 and "already done" in answer.json()["detail"]


def test_events_stream_progress_until_the_job_ends(tmp_path):
    with make_client(tmp_path) as client:
        job_id = client.post("/v1/jobs", json={**FAST, "prompts": ["red chair", "green lamp"]}).json()["id"]
        with client.stream("GET", f"/v1/jobs/{job_id}/events") as stream:
            text = "".join(stream.iter_text())
    events = [block for block in text.split("\n\n") if block.strip()]
    kinds = [block.split("\n")[0] for block in events]
    assert kinds[-1] == "event: end" and set(kinds[:-1]) == {"event: progress"}
    last = json.loads(events[-2].split("data: ", 1)[1])
    assert last["state"] == "done" and last["progress"]["done"] == 2
    dones = [json.loads(b.split("data: ", 1)[1])["progress"]["done"] for b in events[:-1]]
    assert dones == sorted(dones)


def test_an_items_warnings_reach_its_status(tmp_path):
    with make_client(tmp_path) as client:
        job_id = client.post("/v1/jobs", json={**FAST, "prompts": ["orange cat toy", "red chair"]}).json()["id"]
        status = wait_until_finished(client, job_id)
    cat, chair = status["items"]
    assert cat["state"] == "done" and "no toyworld category named in 'orange cat toy'" in cat["warnings"][0]
    assert chair["warnings"] == []


def test_an_event_stream_ends_when_the_service_is_told_to_stop(tmp_path):
    client = make_client(tmp_path)  # not started: the job stays queued, so its stream would go on
    job_id = client.post("/v1/jobs", json={**FAST, "prompt": "red chair"}).json()["id"]
    client.app.state.shutting_down = True  # what `text3d serve` sets on SIGTERM or Ctrl-C
    with client.stream("GET", f"/v1/jobs/{job_id}/events") as stream:
        text = "".join(stream.iter_text())
    kinds = [block.split("\n")[0] for block in text.split("\n\n") if block.strip()]
    assert kinds == ["event: progress", "event: shutdown"] and '"state": "queued"' in text


def test_bad_requests_are_refused_in_one_line(tmp_path):
    client = make_client(tmp_path, max_batch=3)  # not started: nothing runs
    cases = [
        ({**FAST, "prompt": "  "}, 400, "prompt is empty"),
        ({**FAST, "prompt": "a " * 61}, 400, "more than 60"),
        ({**FAST, "prompts": ["a", "b", "c", "d"]}, 400, "more than 3 in one job"),
        ({**FAST, "prompts": ["ok chair", ""]}, 400, "prompts[1] is empty"),
        ({**FAST, "prompt": "chair", "prompts": ["chair"]}, 422, "give either 'prompt' or 'prompts'"),
        ({**FAST, "prompt": "chair", "backend": "nope"}, 400, "nope"),
        ({**FAST, "prompt": "chair", "options": {"candidates": 2}}, 400, "has no option 'candidates'"),
        ({**FAST, "prompt": "chair", "options": {"steps": 0}}, 422, "options.steps"),
        ({**FAST, "prompt": "chair", "options": {"views": ["nope"]}}, 400, "unknown view protocol"),
        ({**FAST, "prompt": "chair", "options": {"out": "/tmp"}}, 422, "options.out"),
        ({**FAST, "prompt": "chair", "model": "/etc"}, 422, "model"),
        ({**FAST, "prompt": "chair", "augment": "hf:../../weights"}, 400, "never by a path"),
        ({**FAST, "prompt": "chair", "augment": "nope:x"}, 400, "unknown augmenter"),
        ({**FAST, "prompt": "chair", "seed": -1}, 422, "seed"),
        ({**FAST, "prompt": "chair", "seed": "5"}, 422, "seed"),  # strict: a string is not taken for a number
        ({**FAST, "prompt": "chair", "options": {"gif": "no"}}, 422, "options.gif"),
    ]
    for body, code, words in cases:
        answer = client.post("/v1/jobs", json=body)
        detail = answer.json()["detail"]
        assert answer.status_code == code and isinstance(detail, str) and words in detail, (body, answer.text)
        assert "\n" not in detail
    assert not (tmp_path / "jobs").exists() or not any((tmp_path / "jobs").iterdir())  # nothing was queued


def test_a_body_that_is_not_json_is_said_with_where(tmp_path):
    client = make_client(tmp_path)
    for body, words in ((b"not json", "body: not valid JSON at character 0: Expecting value"),
                        (b'{"prompt": "a",}', "body: not valid JSON at character 15: Expecting property name")):
        answer = client.post("/v1/jobs", content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 422 and answer.json()["detail"].startswith(words), answer.text


def test_an_oversized_body_is_refused_before_it_is_read(tmp_path):
    client = make_client(tmp_path)
    answer = client.post("/v1/jobs", content=b"{" + b" " * (1100 * 1024) + b"}",
                         headers={"content-type": "application/json"})
    assert answer.status_code == 413 and "more than" in answer.json()["detail"]


def test_the_largest_job_fits_however_its_client_escapes_it(tmp_path):
    import json

    client = make_client(tmp_path)  # not started: the job is only accepted
    body = json.dumps({**FAST, "prompts": ["椅" * 599 + "😀"] * 100}).encode()  # every character escaped
    assert len(body) > 360_000
    answer = client.post("/v1/jobs", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 202, answer.text


def test_a_full_queue_answers_429_with_retry_after(tmp_path):
    client = make_client(tmp_path, queue_size=2)  # not started: jobs wait in the queue
    assert [client.post("/v1/jobs", json={**FAST, "prompt": "chair"}).status_code for _ in range(2)] == [202, 202]
    answer = client.post("/v1/jobs", json={**FAST, "prompt": "chair"})
    assert answer.status_code == 429 and int(answer.headers["retry-after"]) >= 1
    assert "queue" in answer.json()["detail"]
    assert client.get("/v1/health").json()["queued"] == 2


def test_a_queued_job_is_cancelled_and_not_run(tmp_path):
    client = make_client(tmp_path)
    job_id = client.post("/v1/jobs", json={**FAST, "prompt": "chair"}).json()["id"]
    assert client.delete(f"/v1/jobs/{job_id}").json()["state"] == "cancelled"
    assert client.delete(f"/v1/jobs/{job_id}").status_code == 200  # cancelling twice is harmless
    with make_client(tmp_path) as started:  # a new service does not run a cancelled job
        assert started.get(f"/v1/jobs/{job_id}").json()["state"] == "cancelled"
        assert started.get("/v1/health").json()["queued"] == 0
    assert not (tmp_path / "jobs" / job_id / "run").exists()


def test_a_running_job_is_cancelled_and_its_worker_stops(tmp_path):
    prompts = [f"red chair {i}" for i in range(40)]
    body = {**FAST, "prompts": prompts, "options": {"resolution": 16, "gif": True}}
    with make_client(tmp_path) as client:
        job_id = client.post("/v1/jobs", json=body).json()["id"]
        job = client.app.state.store.get(job_id)
        deadline = time.monotonic() + LIMIT_S
        while client.get(f"/v1/jobs/{job_id}").json()["progress"]["done"] < 1 and time.monotonic() < deadline:
            assert job.state in ("queued", "running"), job.state
            time.sleep(0.05)
        assert job.state == "running"
        progress = client.get(f"/v1/jobs/{job_id}").json()["progress"]
        if progress["done"] + progress["failed"] < len(prompts):  # the item the worker is on is running, not pending
            assert progress["running"] == 1
            assert progress["pending"] == len(prompts) - progress["done"] - progress["failed"] - 1
        answer = client.delete(f"/v1/jobs/{job_id}")
        assert answer.status_code == 200 and answer.json()["state"] == "cancelled"
        with exclusive(folder_lock(job.folder / "run"), "run folder", wait_s=60):
            pass  # the worker process let go of the run folder: it was stopped
        status = client.get(f"/v1/jobs/{job_id}").json()
    assert status["state"] == "cancelled" and status["progress"]["done"] < len(prompts)
    # the items it never reached are skipped, not left pending as if they would still run
    assert status["items"][-1]["state"] == "skipped" and status["progress"]["pending"] == 0
    assert status["progress"]["running"] == 0
    assert status["progress"]["skipped"] == len(prompts) - status["progress"]["done"] - status["progress"]["failed"]
    skipped = client.get(f"/v1/jobs/{job_id}/items/{len(prompts) - 1}/asset.glb")
    assert skipped.status_code == 404 and "skipped (the job is cancelled); it has no files" in skipped.json()["detail"]


def test_a_queued_job_left_by_a_stopped_service_runs_when_it_starts_again(tmp_path):
    client = make_client(tmp_path)  # accepts the job but never starts
    job_id = client.post("/v1/jobs", json={**FAST, "prompt": "small blue sailboat"}).json()["id"]
    with make_client(tmp_path) as restarted:
        status = wait_until_finished(restarted, job_id)
    assert status["state"] == "done" and status["items"][0]["state"] == "done"


def test_a_job_that_cannot_run_fails_with_the_reason(tmp_path):
    client = make_client(tmp_path)
    job_id = client.post("/v1/jobs", json={**FAST, "prompt": "chair"}).json()["id"]
    (tmp_path / "jobs" / job_id / "run").mkdir()
    (tmp_path / "jobs" / job_id / "run" / "notes.txt").write_text("not a run")  # the run folder is refused
    with make_client(tmp_path) as restarted:
        status = wait_until_finished(restarted, job_id)
    assert status["state"] == "failed" and "holds other files" in status["error"]
    assert [item["state"] for item in status["items"]] == ["skipped"]
    answer = restarted.get(f"/v1/jobs/{job_id}/items/0/asset.glb")
    assert answer.status_code == 404 and "skipped (the job is failed)" in answer.json()["detail"]


def test_a_token_guards_the_jobs_but_not_health(tmp_path):
    client = make_client(tmp_path, token="s3cret")
    assert client.get("/v1/health").status_code == 200
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret"}):
        answer = client.get("/v1/jobs", headers=headers)
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
        assert client.post("/v1/jobs", json={**FAST, "prompt": "chair"}, headers=headers).status_code == 401
    assert client.get("/v1/jobs", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_cross_origin_requests_are_refused_unless_the_origin_is_allowed(tmp_path):
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    closed = make_client(tmp_path / "a")
    assert "access-control-allow-origin" not in closed.options("/v1/jobs", headers=preflight).headers
    assert "access-control-allow-origin" not in closed.get("/v1/health", headers={"Origin": "https://app.example"}).headers
    opened = make_client(tmp_path / "b", cors=("https://app.example",))
    assert opened.options("/v1/jobs", headers=preflight).headers["access-control-allow-origin"] == "https://app.example"
    other = opened.get("/v1/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_openapi_documents_the_endpoints(tmp_path):
    client = make_client(tmp_path)
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/jobs", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/events", "/v1/health",
            "/v1/jobs/{job_id}/items/{index}/asset.glb"} <= set(paths)
    assert client.get("/docs").status_code == 200


def test_a_failed_items_files_are_said_to_be_missing_because_it_failed(tmp_path):
    from text3d.data.toys4k import prompt_id

    client = make_client(tmp_path)  # not started: the row below stands for the worker's
    job_id = client.post("/v1/jobs", json={**FAST, "prompt": "red chair"}).json()["id"]
    run = tmp_path / "jobs" / job_id / "run"
    run.mkdir(parents=True, exist_ok=True)
    row = {"id": prompt_id(0, "red chair"), "index": 0, "prompt": "red chair", "status": "failed",
           "error": "the LLM server did not answer"}
    (run / "manifest.jsonl").write_text(json.dumps(row) + "\n")
    answer = client.get(f"/v1/jobs/{job_id}/items/0/asset.glb")
    assert answer.status_code == 404
    assert answer.json()["detail"] == (f"item 0 of job {job_id}: failed (the LLM server did not answer); "
                                       "it has no files")
