"""Two writers of one output, and long jobs killed part-way then run again.

A second writer is told which process holds the output (exit code 5) or waits with
``--wait``; a job killed with SIGKILL keeps every finished item and the same command
finishes the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.eval.runs import make_run
from tests.prompts.fake_servers import FakeOllama, Reply
from tests.reliability.conftest import snapshot, unchanged

FAST = ("--backend", "procedural", "--augment", "none", "-r", "32")


def holder(lock_file: Path, seconds: float) -> subprocess.Popen:
    """Another process that holds ``lock_file`` for ``seconds``."""
    code = textwrap.dedent(f"""
        import time
        from text3d.store.locks import exclusive
        with exclusive({str(lock_file)!r}, "test", 0):
            print("held", flush=True)
            time.sleep({seconds})
    """)
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def writers(tmp_path, mesh, prompts):
    """command → (args, the output whose lock it takes)."""
    out = tmp_path / "out"
    return {
        "generate": (["generate", "red chair", "--out", out, *FAST], out / ".text3d.lock"),
        "generate batch": (["generate", "--prompts", prompts, "--out", out, *FAST], out / ".text3d.lock"),
        "augment batch": (["augment", "--prompts", prompts, "--out", tmp_path / "c.jsonl"],
                          tmp_path / ".c.jsonl.lock"),
        "render": (["render", mesh, "--out", out, "-r", "32"], out / ".text3d.lock"),
        "points": (["points", mesh, "--out", tmp_path / "p.ply", "-r", "32"], tmp_path / ".p.ply.lock"),
        "data toyworld": (["data", "toyworld", "--n", "1", "--out", out, "--categories", "mug"],
                          out / ".text3d.lock"),
        "data prompts": (["data", "prompts", prompts, "--out", out], out / ".text3d.lock"),
        "train generator": (["train", "generator", "--out", out], out / ".text3d.lock"),
        "study generator": (["study", "generator", "--out", out], out / ".text3d.lock"),
    }


@pytest.mark.parametrize("command", ["generate", "generate batch", "augment batch", "render", "points",
                                     "data toyworld", "data prompts", "train generator", "study generator"])
def test_a_second_writer_is_told_who_holds_the_output(cli, tmp_path, user_files, command):
    args, lock_file = writers(tmp_path, user_files / "box.glb", user_files / "prompts.txt")[command]
    process = holder(lock_file, 600)  # killed below; long enough for a slow start under load
    try:
        cli.fails(*args, code=5, says=(f"in use by PID {process.pid}", "--wait"))
    finally:
        process.kill()
        process.wait()


def test_eval_waits_for_a_run_being_written(cli, tmp_path):
    run = make_run(tmp_path / "run", [("box", "red"), ("sphere", "blue")])
    process = holder(run / ".text3d.lock", 600)  # killed below
    try:
        cli.fails("eval", "--generated", run, "--out", tmp_path / "e", code=5, says=(f"PID {process.pid}",))
    finally:
        process.kill()
        process.wait()


def test_wait_waits_for_the_other_writer(cli, tmp_path, user_files):
    out = tmp_path / "views"
    process = holder(out / ".text3d.lock", 1.5)
    start = time.monotonic()
    cli.succeeds("render", user_files / "box.glb", "--out", out, "-r", "32", "--wait")
    assert time.monotonic() - start >= 1.0 and (out / "cameras.json").exists()
    process.wait()


def text3d(*args, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "TEXT3D_PROGRESS": "0", **kwargs.pop("env", {})}
    return subprocess.Popen([sys.executable, "-m", "text3d", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True, **kwargs)


def test_two_processes_on_one_run_lose_nothing(tmp_path):
    prompts = tmp_path / "p.txt"
    prompts.write_text("".join(f"{c} chair\n" for c in ("red", "blue", "green", "black", "white", "pink")))
    run = tmp_path / "run"
    first, second = (text3d("generate", "--prompts", prompts, "--out", run, *FAST) for _ in range(2))
    results = [(p.wait(timeout=300), p.stderr.read()) for p in (first, second)]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 5]), results
    if codes == [0, 5]:
        assert "in use by PID" in [err for code, err in results if code == 5][0]
    rows = [json.loads(line) for line in (run / "manifest.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and all(r["status"] == "done" for r in rows)
    assert all((run / "items" / r["id"] / "asset.glb").exists() for r in rows)


def kill_when(process: subprocess.Popen, ready, timeout: float = 240) -> None:
    """SIGKILL ``process`` (and its workers) as soon as ``ready()`` holds."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, f"finished before it could be killed: {process.stderr.read()}"
        assert time.monotonic() < deadline, "never got ready to be killed"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def done_rows(manifest: Path) -> list[dict]:
    if not manifest.exists():
        return []
    rows = []
    for line in manifest.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return [r for r in rows if r.get("status") == "done"]


def finish(*args, env=None) -> str:
    process = text3d(*args, env=env or {})
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    return out


def test_generate_batch_killed_and_resumed(tmp_path):
    prompts = tmp_path / "p.txt"
    prompts.write_text("".join(f"{c} {n}\n" for c in ("red", "blue", "green") for n in ("chair", "car", "mug")))
    run = tmp_path / "run"
    process = text3d("generate", "--prompts", prompts, "--out", run, *FAST)
    kill_when(process, lambda: len(done_rows(run / "manifest.jsonl")) >= 2)
    kept = {r["id"]: snapshot(run / "items" / r["id"]) for r in done_rows(run / "manifest.jsonl")}
    out = finish("generate", "--prompts", prompts, "--out", run, *FAST)
    assert f"{len(kept)} already done" in out
    assert len(done_rows(run / "manifest.jsonl")) == 9
    assert all(unchanged(files, run / "items" / item) for item, files in kept.items())


def test_augment_batch_killed_and_resumed(tmp_path):
    prompts = tmp_path / "p.txt"
    prompts.write_text("".join(f"{c} car\n" for c in ("red", "blue", "green", "black", "white", "pink")))
    out = tmp_path / "c.jsonl"
    replies = [Reply(content=f"A {c} car with a glossy {c} metal body and four black rubber wheels.", delay_s=0.4)
               for c in ("red", "blue", "green", "black", "white", "pink")] * 2
    with FakeOllama(replies) as server:
        env = {"OLLAMA_HOST": server.url, "TEXT3D_CACHE_DIR": str(tmp_path / "cache")}
        process = text3d("augment", "--prompts", prompts, "--out", out, "--llm", "ollama:qwen3:0.6b", env=env)
        kill_when(process, lambda: out.exists() and len(out.read_text().splitlines()) >= 2)
        first = [json.loads(line) for line in out.read_text().splitlines() if line.endswith("}")]
        finish("augment", "--prompts", prompts, "--out", out, "--llm", "ollama:qwen3:0.6b", env=env)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["prompt"] for r in rows] == [p for p in prompts.read_text().split("\n") if p]
    assert all(r["caption"] for r in rows) and rows[: len(first)] == first


def test_toyworld_build_killed_and_resumed(tmp_path):
    run = tmp_path / "tw"
    args = ("data", "toyworld", "--n", "10", "--out", run, "-r", "32", "--no-points", "--workers", "1",
            "--categories", "mug,chair")
    process = text3d(*args)
    kill_when(process, lambda: len(done_rows(run / "manifest.jsonl")) >= 2)
    kept = [r["id"] for r in done_rows(run / "manifest.jsonl")]
    glb = {i: (run / "items" / i / "asset.glb").stat().st_mtime_ns for i in kept}
    out = finish(*args)
    assert f"{len(kept)} already done" in out and len(done_rows(run / "manifest.jsonl")) == 10
    assert all((run / "items" / i / "asset.glb").stat().st_mtime_ns == t for i, t in glb.items())


def test_evaluation_killed_and_resumed(tmp_path):
    run = make_run(tmp_path / "run", [("box", "red"), ("sphere", "blue"), ("cylinder", "green"),
                                      ("box", "yellow"), ("sphere", "purple"), ("cylinder", "orange")] * 5)
    args = ("eval", "--generated", run, "--out", tmp_path / "e", "--resolution", "64")
    process = text3d(*args)
    kill_when(process, lambda: any((run / "items").glob("*/views/*/cameras.json")))
    finish(*args)
    metrics = json.loads((tmp_path / "e" / "metrics.json").read_text())
    assert metrics["n_items"] == 30


def test_generator_training_killed_and_resumed(tmp_path):
    out = tmp_path / "train"
    args = ("train", "generator", "--out", out, "--items", "8", "--steps", "6", "--vae-steps", "2", "--batch", "4",
            "--check", "0", "--workers", "1")
    process = text3d(*args)
    kill_when(process, lambda: (out / "stage1-vae" / "config.json").exists())
    vae = snapshot(out / "stage1-vae")
    finish(*args)
    assert unchanged(vae, out / "stage1-vae") and (out / "generator" / "config.json").exists()
