"""The toyworld builder: folder contract, manifest, resume after a kill, CLI."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from PIL import Image

from text3d.cli import main
from text3d.data.toyworld.builder import BuildConfig, build_toyworld
from text3d.store.folders import RunFolder

CATS = ("sailboat", "chair", "mug")


def test_build_writes_the_contract(tmp_path):
    summary = build_toyworld(BuildConfig(n=4, views=("canonical4", "clip8"), resolution=48, categories=CATS,
                                         point_resolution=64, workers=1), tmp_path / "run", progress=False)
    assert summary["built"] == 4 and summary["failed"] == 0
    run = RunFolder(tmp_path / "run")
    rows = list(run.manifest.rows().values())
    assert [r["id"] for r in rows] == ["sailboat-0000000", "chair-0000000", "mug-0000000", "sailboat-0000001"]
    for row in rows:
        for key in ("id", "category", "kind", "prompt", "captions", "split", "status"):
            assert key in row
        assert row["status"] == "done" and row["split"] == "train" and len(row["captions"]) >= 3
        item = run.item(row["id"])
        meta = json.loads(item.meta_path.read_text())
        assert meta["category"] == row["category"] and meta["backend"] == "procedural"
        assert set(meta["timings_s"]) >= {"generate", "export", "render", "points"}
        assert len(item.view_paths("canonical4")) == 4 and len(item.view_paths("clip8")) == 8
        assert Image.open(item.view_paths("clip8")[0]).size == (48, 48)
        assert item.points_path.exists()
    assert run.read_config()["dataset"] == "toyworld"


def test_rerun_skips_done_items_and_extends(tmp_path):
    config = BuildConfig(n=3, resolution=32, categories=CATS, points=False, workers=1)
    build_toyworld(config, tmp_path, progress=False)
    first = (tmp_path / "items" / "sailboat-0000000" / "asset.glb").stat().st_mtime_ns
    again = build_toyworld(config, tmp_path, progress=False)
    assert again["skipped"] == 3 and again["built"] == 0
    more = build_toyworld(BuildConfig(n=5, resolution=32, categories=CATS, points=False, workers=1), tmp_path,
                          progress=False)
    assert more["built"] == 2 and more["skipped"] == 3
    assert (tmp_path / "items" / "sailboat-0000000" / "asset.glb").stat().st_mtime_ns == first


def test_other_configuration_is_refused(tmp_path):
    build_toyworld(BuildConfig(n=1, resolution=32, categories=CATS, points=False, workers=1), tmp_path, progress=False)
    with pytest.raises(Exception, match=r"other settings \(resolution differ\)"):
        build_toyworld(BuildConfig(n=1, resolution=64, categories=CATS, points=False, workers=1), tmp_path,
                       progress=False)


def test_killed_build_resumes_without_redoing_or_losing_items(tmp_path):
    out = tmp_path / "run"
    args = [sys.executable, "-m", "text3d", "data", "toyworld", "--n", "40", "--out", str(out), "--resolution", "32",
            "--categories", ",".join(CATS), "--workers", "2", "--no-points"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    manifest = out / "manifest.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline:
        if manifest.exists() and manifest.read_text().count('"done"') >= 5:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = RunFolder(out).manifest.done_ids()
    assert 5 <= len(done_before) < 40, "the build should have been killed part-way"
    stamps = {i: (out / "items" / i / "asset.glb").stat().st_mtime_ns for i in done_before}
    code = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert code.returncode == 0, code.stderr
    run = RunFolder(out)
    assert len(run.manifest.done_ids()) == 40 and len(run.manifest.rows()) == 40
    assert all((out / "items" / i / "asset.glb").stat().st_mtime_ns == t for i, t in stamps.items())
    assert not list(out.rglob("*.tmp"))


def test_cli_bad_options(tmp_path, capsys):
    assert main(["data", "toyworld", "--n", "0", "--out", str(tmp_path)]) == 2
    assert main(["data", "toyworld", "--n", "2", "--out", str(tmp_path), "--categories", "unicorn"]) == 2
    err = capsys.readouterr().err
    assert "unicorn" in err and "Traceback" not in err
