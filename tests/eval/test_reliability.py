"""Evaluation refuses what it cannot measure: one-item runs, stale or corrupt assets, blank renders."""

import dataclasses
import json
import os

import numpy as np
import pytest

from tests.eval.runs import make_run
from tests.eval.test_protocol import ColorOracle  # noqa: F401  (registers test-color-oracle)
from text3d.assets import Asset, save_asset
from text3d.errors import InputError
from text3d.eval.inputs import load_items, points_reusable, prepare_items
from text3d.eval.protocol import EvalOptions, evaluate_run
from text3d.eval.report import write_reports
from text3d.store.folders import RunFolder

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
ORACLE = EvalOptions(extractors=("test-color-oracle",), resolution=32)


def test_one_item_run_is_refused_before_any_work(tmp_path):
    one = make_run(tmp_path / "one", [("box", "red")])
    two = make_run(tmp_path / "two", [("box", "red"), ("sphere", "blue")])
    with pytest.raises(InputError, match=r"generated run .*one: 1 finished item; FD and KD need at least 2") as err:
        evaluate_run(one, tmp_path / "out", two, ORACLE)
    assert "\n" not in str(err.value)
    with pytest.raises(InputError, match=r"reference run .*one: 1 finished item"):
        evaluate_run(two, tmp_path / "out", one, ORACLE)
    assert not (one / "items" / "item000" / "views").exists() and not (two / "items" / "item000" / "views").exists()


def test_one_prompt_r_at_k_is_null_with_a_warning(tmp_path):
    one = make_run(tmp_path / "one", [("box", "red")])
    result = evaluate_run(one, tmp_path / "out", None, ORACLE)
    write_reports(result, tmp_path / "out")
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["r_at_1"] is None and metrics["r_at_5"] is None and metrics["r_at_10"] is None
    assert isinstance(metrics["clip_user"], float)
    assert any("R@K is null" in w for w in metrics["warnings"]) and result.warnings == tuple(metrics["warnings"])
    assert "R@K is null" in (tmp_path / "out" / "report.md").read_text()


def test_truncated_asset_with_old_views_is_not_evaluated(tmp_path):
    run = make_run(tmp_path / "run", [("box", "red"), ("sphere", "blue")])
    items = load_items(run)
    prepare_items(items, ("canonical4",), 32, points=(200, 32))  # views and points of the whole assets
    asset = items[1].folder.asset_path
    asset.write_bytes(asset.read_bytes()[: asset.stat().st_size // 2])
    assert points_reusable(items[0].folder, (200, 32)) and not points_reusable(items[1].folder, (200, 32))
    with pytest.raises(InputError, match=r"run item item001: asset.glb is truncated or corrupt") as err:
        prepare_items(items, ("canonical4",), 32)
    assert "\n" not in str(err.value)
    with pytest.raises(InputError, match="item001"):
        evaluate_run(run, tmp_path / "out", None, ORACLE)


def test_points_sampled_with_another_plan_are_sampled_again(tmp_path):
    from text3d.render.points import ply_vertex_count

    run = make_run(tmp_path / "run", [("box", "red"), ("sphere", "blue")])
    items = load_items(run)
    points = prepare_items(items, (), None, points=(1, 32))[1]  # a hostile --points 1
    assert all(ply_vertex_count(p) == 1 for p in points)
    assert not points_reusable(items[0].folder, (200, 32)) and not points_reusable(items[0].folder, (1, 48))
    points = prepare_items(items, (), None, points=(200, 32))[1]
    assert all(ply_vertex_count(p) == 200 for p in points)
    assert points_reusable(items[0].folder, (200, 32))
    # a cloud from before plans were recorded: reused when its header holds the points asked for
    items[0].folder.points_path.with_suffix(".json").unlink()
    assert points_reusable(items[0].folder, (200, 32)) and not points_reusable(items[0].folder, (100, 32))


def test_clouds_smaller_than_asked_are_said_in_the_warnings(tmp_path):
    from text3d.eval.metric_inputs import Input
    from text3d.eval.protocol import _prepare, _sparse_cloud_warnings

    run = make_run(tmp_path / "run", [("box", "red"), ("sphere", "blue")])
    items = load_items(run)
    options = EvalOptions(n_points=100_000, point_resolution=16)
    sources = _prepare(items, None, {Input.POINTS}, options)
    (warning,) = _sparse_cloud_warnings(sources, options)
    assert warning.startswith("2 of 2 generated point clouds hold fewer than --points 100000 (fewest ")
    assert not _sparse_cloud_warnings(sources, EvalOptions(n_points=1, point_resolution=16))


def test_views_of_a_replaced_asset_or_other_cameras_are_rendered_again(tmp_path):
    run = make_run(tmp_path / "run", [("box", "red"), ("sphere", "blue")])
    items = load_items(run)
    views = prepare_items(items, ("canonical4",), 32)[0]["canonical4"]
    first = [f.read_bytes() for f in views[0]]
    # same-size replacement with the mtime set back: the digest recorded in cameras.json still differs
    folder = items[0].folder
    stat = folder.asset_path.stat()
    from tests.eval.runs import primitive

    save_asset(primitive("box", "green"), folder.asset_path)
    os.utime(folder.asset_path, ns=(stat.st_atime_ns, stat.st_mtime_ns - 10**9))
    again = prepare_items(items, ("canonical4",), 32)[0]["canonical4"]
    assert [f.read_bytes() for f in again[0]] != first
    # cameras.json of other cameras (a yaw edited) is not reused
    cameras = folder.views_dir("canonical4") / "cameras.json"
    document = json.loads(cameras.read_text())
    document["views"][1]["yaw"] = 45.0
    cameras.write_text(json.dumps(document))
    prepare_items(items, ("canonical4",), 32, render_missing=True)
    assert json.loads(cameras.read_text())["views"][1]["yaw"] == 90.0
    cameras.write_text(json.dumps(document))
    with pytest.raises(InputError, match="lack canonical4 views"):
        prepare_items(items, ("canonical4",), 32, render_missing=False)


def test_zero_area_mesh_is_refused_naming_the_item(tmp_path):
    run = make_run(tmp_path / "run", [("box", "red"), ("sphere", "blue")])
    flat = Asset(vertices=np.array([[0.0, 0, 0], [0.5, 0, 0], [1.0, 0, 0], [0.0, 0.5, 0.5]]),
                 faces=np.array([[0, 1, 2], [0, 0, 3]]))
    save_asset(flat, RunFolder(run).item("item001").asset_path)
    with pytest.raises(InputError, match=r"item001.*(blank|no mesh|zero area)") as err:
        evaluate_run(run, tmp_path / "out", None, ORACLE)
    assert "\n" not in str(err.value)


def _tree(root) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in sorted(root.rglob("*"))}


def test_a_read_only_reference_is_read_and_never_written(tmp_path, monkeypatch):
    """Views and points a read-only run lacks go to the evaluation's derived/ folder; the
    metrics are those of evaluating a writable copy, and a second evaluation reuses them."""
    import shutil

    import text3d.eval.inputs as inputs

    gen = make_run(tmp_path / "gen", [("box", "red"), ("sphere", "green")])
    ref = make_run(tmp_path / "ref", [("box", "red"), ("sphere", "blue"), ("cylinder", "green")], captions=False)
    shutil.copytree(ref, tmp_path / "ref-copy")
    options = EvalOptions(resolution=32, point_resolution=32, n_points=200, kd_subsets=4, device="cpu")
    writable = evaluate_run(gen, tmp_path / "plain", tmp_path / "ref-copy", options)

    before = _tree(ref)
    monkeypatch.setattr(inputs, "writable", lambda folder: not str(folder).startswith(str(ref)))
    result = evaluate_run(gen, tmp_path / "out", ref, options)
    assert _tree(ref) == before
    derived = tmp_path / "out" / "derived" / "reference"
    assert sorted(p.name for p in derived.iterdir()) == ["item000", "item001", "item002"]
    assert (derived / "item000" / "points.ply").is_file() and (derived / "item000" / "views").is_dir()
    assert result.values == writable.values
    stamps = _tree(derived)
    assert evaluate_run(gen, tmp_path / "out", ref, options).values == writable.values  # the same folder again
    assert _tree(derived) == stamps  # nothing rendered again: the spilled files were reused

    # without a spill folder a read-only item that lacks files is refused in one line
    monkeypatch.setattr(inputs, "writable", lambda folder: False)
    fresh = make_run(tmp_path / "fresh", [("box", "red"), ("sphere", "blue")])
    with pytest.raises(InputError, match="^reference: item folder .* is read-only and lacks views or points"):
        prepare_items(load_items(fresh, "reference"), ("canonical4",), 32, label="reference")


def test_spilled_points_stand_only_for_the_asset_they_were_sampled_from(tmp_path, monkeypatch):
    """A read-only reference replaced by another with the same item ids (older files) gets new
    points in derived/, not the first one's (their mtimes would have passed)."""
    import shutil

    import text3d.eval.inputs as inputs

    gen = make_run(tmp_path / "gen", [("box", "red"), ("sphere", "green")])
    ref = make_run(tmp_path / "ref", [("box", "red"), ("sphere", "blue")], captions=False)
    other = make_run(tmp_path / "other", [("cylinder", "green"), ("box", "yellow")], captions=False)
    options = EvalOptions(resolution=32, point_resolution=32, n_points=200, kd_subsets=4, device="cpu")
    monkeypatch.setattr(inputs, "writable", lambda folder: "ref" not in str(folder))
    evaluate_run(gen, tmp_path / "out", ref, options)
    for folder in (ref / "items").iterdir():  # the other run's assets under the same ids, dated in the past
        item = sorted((other / "items").iterdir())[sorted((ref / "items").iterdir()).index(folder)]
        shutil.copyfile(item / "asset.glb", folder / "asset.glb")
        os.utime(folder / "asset.glb", (1_000_000_000, 1_000_000_000))
    again = evaluate_run(gen, tmp_path / "out", ref, options)
    fresh = evaluate_run(gen, tmp_path / "fresh", ref, options)
    assert again.values == fresh.values


def test_a_manifest_id_that_leaves_the_run_is_refused(tmp_path):
    ref = make_run(tmp_path / "ref", [("box", "red"), ("sphere", "blue")], captions=False)
    manifest = ref / "manifest.jsonl"
    rows = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
    rows[0]["id"] = "../../outside"
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with pytest.raises(InputError, match=r"item id '\.\./\.\./outside' is not a folder name"):
        load_items(ref, "reference")


def test_an_evaluation_at_another_size_or_point_plan_leaves_the_runs_own_files_alone(tmp_path):
    gen = make_run(tmp_path / "gen", [("box", "red"), ("sphere", "green")])
    ref = make_run(tmp_path / "ref", [("box", "red"), ("sphere", "blue")], captions=False)
    options = EvalOptions(resolution=32, point_resolution=32, n_points=200, kd_subsets=4, device="cpu")
    first = evaluate_run(gen, tmp_path / "e32", ref, options)
    runs = {**_tree(gen), **{f"ref/{k}": v for k, v in _tree(ref).items()}}
    other = dataclasses.replace(options, resolution=16, n_points=100)
    evaluate_run(gen, tmp_path / "e16", ref, other)
    assert {**_tree(gen), **{f"ref/{k}": v for k, v in _tree(ref).items()}} == runs  # nothing replaced
    derived = tmp_path / "e16" / "derived"
    assert sorted(p.name for p in (derived / "generated").iterdir()) == ["item000", "item001"]
    assert (derived / "reference" / "item000" / "points.ply").is_file()
    assert evaluate_run(gen, tmp_path / "e32b", ref, options).values == first.values  # the run's own, reused
