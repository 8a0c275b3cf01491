"""The ray executor on a local 2-CPU cluster: same outputs as the local executor, resume, retries.

One cluster for the module (``ray.init(num_cpus=2)``); the stage helpers below are sent to the
workers by value, since the workers cannot import the tests package."""

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from text3d.errors import InputError  # noqa: E402
from text3d.eval.protocol import EvalOptions, evaluate_run  # noqa: E402
from text3d.executors import Stage  # noqa: E402
from text3d.executors.ray import RayExecutor  # noqa: E402
from text3d.runs.pipeline import generate_batch  # noqa: E402
from text3d.store.folders import RunFolder  # noqa: E402

PROMPTS = ["small red mug", "tall blue lamp", "green wooden chair", "yellow toy car"]
SETTINGS = {"augment": "none", "backend": "embedded", "seed": 7, "views": ("canonical4",), "resolution": 32,
            "candidates": 1, "progress": False}
CHEAP = {**SETTINGS, "backend": "procedural", "candidates": None}  # no model: for what does not need one


@pytest.fixture(scope="module")
def cluster():
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING,
             runtime_env={"env_vars": {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}})
    yield RayExecutor()
    ray.shutdown()


def run_files(root: Path) -> dict[str, bytes]:
    """Every file of a run's items (asset.glb, views), by path; meta.json without its timings."""
    files = {}
    for path in sorted((root / "items").rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.name == "meta.json":
            meta = json.loads(data)
            meta.pop("timings_s")
            data = json.dumps(meta, sort_keys=True).encode()
        files[str(path.relative_to(root))] = data
    return files


def rows_without_timings(root: Path) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "timings_s"} for row in RunFolder(root).manifest.rows().values()]


def figures(eval_result) -> dict:
    values = dict(eval_result.values)
    values.pop("latency_s", None)  # seconds differ between any two runs
    return values


def test_ray_generates_and_evaluates_what_local_does(tmp_path, cluster):
    local = generate_batch(PROMPTS[:2], tmp_path / "local", **SETTINGS)
    remote = generate_batch(PROMPTS[:2], tmp_path / "ray", executor=cluster, **SETTINGS)
    assert local == remote == {"done": 2, "failed": 0, "skipped": 0}
    assert run_files(tmp_path / "ray") == run_files(tmp_path / "local")  # byte-identical GLBs and views
    assert rows_without_timings(tmp_path / "ray") == rows_without_timings(tmp_path / "local")
    # the evaluation renders the missing clip8 views on the cluster; the figures are the local ones
    options = EvalOptions(resolution=32, device="cpu")
    by_local = evaluate_run(tmp_path / "local", tmp_path / "eval-local", options=options)
    by_ray = evaluate_run(tmp_path / "ray", tmp_path / "eval-ray", options=options, executor=cluster)
    assert figures(by_ray) == figures(by_local) and "clip_user" in figures(by_local)
    assert run_files(tmp_path / "ray") == run_files(tmp_path / "local")  # clip8 views too


def test_a_killed_batch_resumes_with_only_the_missing_items(tmp_path, cluster):
    run = tmp_path / "run"
    assert generate_batch(PROMPTS, run, executor=cluster, **CHEAP)["done"] == 4
    before = run_files(run)
    # the state a kill leaves: two items finished, one half-written, one never started
    ids = list(RunFolder(run).manifest.rows())
    (run / "items" / ids[1] / "meta.json").unlink()
    shutil.rmtree(run / "items" / ids[3])
    rows = RunFolder(run).manifest.rows()
    RunFolder(run).manifest.path.write_text("".join(json.dumps(rows[i]) + "\n" for i in (ids[0], ids[2])))
    kept = {i: (run / "items" / i / "asset.glb").stat().st_mtime_ns for i in (ids[0], ids[2])}
    counts = generate_batch(PROMPTS, run, executor=cluster, **CHEAP)
    assert counts == {"done": 2, "failed": 0, "skipped": 2}
    assert {i: (run / "items" / i / "asset.glb").stat().st_mtime_ns for i in kept} == kept  # not redone
    assert run_files(run) == before and len(RunFolder(run).manifest.rows()) == 4


def test_a_batch_whose_driver_is_killed_resumes(tmp_path, cluster):
    """A real kill: ``text3d generate --executor ray:ADDRESS`` is SIGKILLed after its first finished item;
    the same batch run again (here in process, on the same cluster) does only the rest."""
    prompts = [f"{color} {thing}" for color in ("red", "blue", "green", "yellow") for thing in ("chair", "mug", "lamp")]
    source = tmp_path / "prompts.txt"
    source.write_text("\n".join(prompts) + "\n")
    run = tmp_path / "run"
    cluster.close()  # its actors hold the cluster's 2 CPUs until closed; the other driver needs them
    address = ray.get_runtime_context().gcs_address
    driver = subprocess.Popen([sys.executable, "-m", "text3d", "generate", "--prompts", str(source), "--out", str(run),
                               "--backend", "procedural", "--augment", "none", "--resolution", "64",
                               "--executor", f"ray:{address}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and driver.poll() is None:
            rows = RunFolder(run).manifest.rows() if (run / "manifest.jsonl").exists() else {}
            if any(row.get("status") == "done" for row in rows.values()):
                break
            time.sleep(0.05)
        assert driver.poll() is None, f"the batch ended before the kill: {driver.stderr.read().decode()[-500:]}"
    finally:
        driver.kill()
        driver.wait(30)
        driver.stderr.close()
    kept = {row["id"]: (run / "items" / row["id"] / "meta.json").stat().st_mtime_ns
            for row in RunFolder(run).manifest.rows().values() if row.get("status") == "done"}
    assert 1 <= len(kept) < len(prompts)
    counts = generate_batch(prompts, run, augment="none", backend="procedural", resolution=64, progress=False,
                            executor=cluster)
    assert counts == {"done": len(prompts) - len(kept), "failed": 0, "skipped": len(kept)}
    assert {i: (run / "items" / i / "meta.json").stat().st_mtime_ns for i in kept} == kept
    assert all(row["status"] == "done" for row in RunFolder(run).manifest.rows().values())


def _setup_marker(folder: str) -> str:
    Path(folder, f"setup-{os.getpid()}").touch()  # one file per worker process that ran setup
    return folder


def _square_once_dying(folder: str, item: int) -> tuple[int, int]:
    marker = Path(folder, f"died-{item}")
    if item == 2 and not marker.exists():
        marker.touch()
        os._exit(1)  # the worker process dies mid-item, as a kill or an out-of-memory would
    return item * item, os.getpid()


def test_each_worker_sets_up_once_and_a_killed_worker_is_retried(tmp_path, cluster):
    stage = Stage("square", lambda: _setup_marker(str(tmp_path)), _square_once_dying)
    results = dict(cluster.map(stage, list(range(8))))
    assert {i: r[0] for i, r in results.items()} == {i: i * i for i in range(8)}
    assert (tmp_path / "died-2").exists()  # item 2 killed its worker once, then ran on the restarted one
    setups = {p.name for p in tmp_path.glob("setup-*")}
    workers = {f"setup-{r[1]}" for r in results.values()}
    assert workers <= setups and len(setups) <= 3  # 2 actors + the restarted one: one setup per process


def _refuse(_: None, item: int) -> int:
    if item == 1:
        raise InputError(f"item {item}: refused")
    return item


def test_a_stage_error_reaches_the_caller_as_itself(cluster):
    with pytest.raises(InputError, match="^item 1: refused$"):
        list(cluster.map(Stage("refuse", lambda: None, _refuse), [0, 1, 2]))


def _environment(_: None, name: str) -> str | None:
    return os.environ.get(name)


def test_actors_sleep_instead_of_spinning_and_keep_the_jobs_environment(cluster):
    # torch threads × actors exceed the cores; spinning OpenMP threads would starve the other actors
    stage = Stage("environment", lambda: None, _environment)
    values = dict(cluster.map(stage, ["OMP_WAIT_POLICY", "HF_HUB_OFFLINE"]))
    assert values == {0: "PASSIVE", 1: "1"}
