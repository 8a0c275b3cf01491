"""Reading run folders: items, captions, timings, identity, point clouds."""

import numpy as np
import pytest

from tests.eval.runs import make_run
from text3d.errors import InputError
from text3d.eval.inputs import load_items, read_cloud, run_identity
from text3d.render.points import write_point_ply
from text3d.store.folders import RunFolder


def test_items_sorted_with_captions_and_timings_from_every_source(tmp_path):
    run = RunFolder(tmp_path / "run")
    run.manifest.update_many([
        {"id": "b", "status": "done", "prompt": "a red box", "captions": ["first caption", "second"],
         "timings_s": {"generate": 2.0}},
        {"id": "a", "status": "done", "prompt": "a blue ball"},
        {"id": "c", "status": "failed", "prompt": "broken"},
    ])
    run.item("a").write_meta({"caption": "caption from meta", "timings_s": {"generate": 1.5, "bad": "x"}})
    items = load_items(run.root)
    assert [i.id for i in items] == ["a", "b"]
    assert items[0].caption == "caption from meta" and items[0].timings_s == {"generate": 1.5}
    assert items[1].caption == "first caption" and items[1].timings_s == {"generate": 2.0}


def test_missing_prompt_and_empty_runs_are_input_errors(tmp_path):
    run = RunFolder(tmp_path / "run")
    run.manifest.update({"id": "x", "status": "failed"})
    with pytest.raises(InputError, match="no finished items"):
        load_items(run.root)
    run.manifest.update({"id": "y", "status": "done"})
    with pytest.raises(InputError, match="'y' has no prompt"):
        load_items(run.root)


@pytest.mark.parametrize("damage, needle", [
    (b": : [", "run.yaml: not valid YAML"), (b"[1, 2]", "run.yaml: holds a list, not a mapping"),
    (b"\xff\xfe", "run.yaml: not UTF-8 text")])
def test_a_damaged_run_yaml_is_one_line_naming_it(tmp_path, damage, needle):
    root = make_run(tmp_path / "run", [("box", "red")])
    (root / "run.yaml").write_bytes(damage)
    with pytest.raises(InputError, match=needle):
        load_items(root)


def test_a_damaged_meta_json_is_one_line_naming_it(tmp_path):
    root = make_run(tmp_path / "run", [("box", "red"), ("sphere", "blue")])
    meta = root / "items" / "item001" / "meta.json"
    meta.write_text("{bad")
    with pytest.raises(InputError, match=f"{meta}: not valid JSON"):
        load_items(root)
    meta.write_text('"a string"')
    with pytest.raises(InputError, match="meta.json: holds a str, not a mapping"):
        load_items(root)


def test_run_identity(tmp_path):
    assert run_identity(make_run(tmp_path / "r1", [("box", "red")], name="qwen3:14b")) == ("qwen3:14b", "qwen3")
    assert run_identity(make_run(tmp_path / "plain", [("box", "red")])) == ("plain", "plain")


def test_read_cloud_positions_and_normals(tmp_path):
    points = np.random.default_rng(0).random((50, 3)).astype(np.float32)
    normals = np.tile([0.0, 0.0, 1.0], (50, 1)).astype(np.float32)
    write_point_ply(tmp_path / "p.ply", points, normals)
    xyz = read_cloud(tmp_path / "p.ply")
    assert xyz.shape == (50, 3)
    np.testing.assert_allclose(xyz[:, 1], points[:, 2], atol=1e-6)  # file frame is y-up: z_up → y
    with_normals = read_cloud(tmp_path / "p.ply", channels=6)
    np.testing.assert_allclose(with_normals[:, 4], 1.0, atol=1e-6)
    write_point_ply(tmp_path / "q.ply", points)
    with pytest.raises(InputError, match="needs normals"):
        read_cloud(tmp_path / "q.ply", channels=6)
