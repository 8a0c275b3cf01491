import json
import subprocess
import sys

import numpy as np
import pytest
import trimesh
from PIL import Image

from text3d.assets import save_asset
from text3d.cli import main


def run_cli(args, capsys):
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_render_writes_views_and_cameras(tmp_path, marked_asset, capsys):
    mesh = save_asset(marked_asset, tmp_path / "m.glb")
    out = tmp_path / "views"
    code, _, err = run_cli(["render", str(mesh), "--views", "canonical4", "--resolution", "64", "--out", str(out),
                            "--depth", "--normals", "--mask", "--background", "black", "--sheet"], capsys)
    assert code == 0, err
    for i in range(4):
        assert Image.open(out / f"{i:03d}.png").size == (64, 64)
        assert (out / "depth" / f"{i:03d}.png").exists() and (out / "normals" / f"{i:03d}.png").exists()
        assert (out / "mask" / f"{i:03d}.png").exists()
    doc = json.loads((out / "cameras.json").read_text())
    assert [v["yaw"] for v in doc["views"]] == [0, 90, 180, 270] and doc["depth_scale"] == 10000
    assert np.asarray(Image.open(out / "depth" / "000.png")).dtype == np.uint16
    assert (out / "sheet.png").exists()


def test_render_overwrite_keeps_the_users_own_files_in_every_view_folder(tmp_path, marked_asset, capsys):
    mesh = save_asset(marked_asset, tmp_path / "m.glb")
    out = tmp_path / "views"
    args = ["render", str(mesh), "--views", "canonical4", "--resolution", "32", "--out", str(out), "--depth"]
    assert run_cli(args, capsys)[0] == 0
    (out / "notes.txt").write_text("mine")
    (out / "depth" / "retouched.png").write_bytes(b"mine")
    code, _, err = run_cli([*args[:-1], "--overwrite"], capsys)  # now without depth
    assert code == 0, err
    assert (out / "notes.txt").read_text() == "mine" and (out / "depth" / "retouched.png").read_bytes() == b"mine"
    assert not (out / "depth" / "000.png").exists()  # the earlier render's depth views went
    assert (out / "000.png").exists()


def test_points_command(tmp_path, sphere_asset, capsys):
    mesh = save_asset(sphere_asset, tmp_path / "s.ply")
    code, out, err = run_cli(["points", str(mesh), "--out", str(tmp_path / "p.ply"), "--resolution", "96"], capsys)
    assert code == 0, err
    assert trimesh.load(str(tmp_path / "p.ply")).vertices.shape == (4000, 3) and "WARNING" not in err
    # more points than the views can see: all of them, and a warning that says so
    code, out, err = run_cli(["points", str(mesh), "--out", str(tmp_path / "q.ply"), "--resolution", "32",
                              "--n", "100000"], capsys)
    got = trimesh.load(str(tmp_path / "q.ply")).vertices.shape[0]
    assert code == 0 and got < 100000 and f"saw {got} surface points" in err


def write_big_glb(path, faces_wanted=5_000_000):
    side = int(np.ceil(np.sqrt(faces_wanted / 2))) + 1
    xs = np.linspace(0, 1, side, dtype=np.float32)
    gx, gy = np.meshgrid(xs, xs, indexing="ij")
    vertices = np.stack([gx.ravel(), gy.ravel(), np.zeros(gx.size, np.float32)], axis=1)
    idx = np.arange(side * side).reshape(side, side)
    a, b, c, d = idx[:-1, :-1].ravel(), idx[1:, :-1].ravel(), idx[1:, 1:].ravel(), idx[:-1, 1:].ravel()
    faces = np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)])
    trimesh.Trimesh(vertices, faces, process=False).export(str(path))
    return len(faces)


@pytest.fixture
def bad_inputs(tmp_path):
    files = {}
    files["missing"] = tmp_path / "missing.glb"
    (tmp_path / "empty.glb").write_bytes(b"")
    files["empty"] = tmp_path / "empty.glb"
    (tmp_path / "corrupt.glb").write_bytes(b"glTF" + b"\x02\x00\x00\x00" + b"\xff" * 40)
    files["corrupt"] = tmp_path / "corrupt.glb"
    (tmp_path / "text.obj").write_text("this is a shopping list\nmilk\n")
    files["not a mesh"] = tmp_path / "text.obj"
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    files["wrong format"] = tmp_path / "photo.png"
    trimesh.PointCloud(np.random.rand(20, 3)).export(str(tmp_path / "cloud.ply"))
    files["no faces"] = tmp_path / "cloud.ply"
    (tmp_path / "nan.obj").write_text("v 0 0 0\nv 1 0 nan\nv 0 1 0\nv inf 0 0\nf 1 2 3\nf 1 3 4\n")
    files["nan"] = tmp_path / "nan.obj"
    (tmp_path / "huge.obj").write_text("v 0 0 0\nv 1e300 0 0\nv 0 1 0\nf 1 2 3\n")  # past float32
    files["huge"] = tmp_path / "huge.obj"
    (tmp_path / "face.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n")  # vertex 9 does not exist
    files["bad face"] = tmp_path / "face.obj"
    gltf = {"asset": {"version": "2.0"}, "buffers": [{"uri": "../outside.bin", "byteLength": 36}],
            "bufferViews": [{"buffer": 0, "byteLength": 36}],
            "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3"}],
            "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}], "nodes": [{"mesh": 0}],
            "scenes": [{"nodes": [0]}]}
    (tmp_path / "escape").mkdir()
    (tmp_path / "escape" / "up.gltf").write_text(json.dumps(gltf))
    (tmp_path / "outside.bin").write_bytes(bytes(36))
    files["escaping uri"] = tmp_path / "escape" / "up.gltf"
    return files


@pytest.mark.parametrize("case,needle", [("missing", "no such file"), ("empty", "empty"), ("corrupt", "corrupt"),
                                         ("not a mesh", "no mesh with faces"), ("wrong format", "unsupported"),
                                         ("no faces", "no mesh with faces"), ("nan", "NaN"),
                                         ("huge", "infinite"), ("bad face", "a face names a vertex"),
                                         ("escaping uri", "points outside the file's folder")])
def test_bad_input_gives_one_line_error(bad_inputs, tmp_path, capsys, case, needle):
    path = bad_inputs[case]
    code, out, err = run_cli(["render", str(path), "--out", str(tmp_path / "o"), "--resolution", "32"], capsys)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert str(path) in lines[0] and needle in lines[0]
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_five_million_faces_is_refused_quickly(tmp_path):
    path = tmp_path / "huge.glb"
    n = write_big_glb(path)
    assert n >= 5_000_000
    proc = subprocess.run([sys.executable, "-m", "text3d", "render", str(path), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert proc.stderr.count("\n") == 1 and "huge.glb" in proc.stderr and "faces" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_protocol_and_info(tmp_path, sphere_asset, capsys):
    mesh = save_asset(sphere_asset, tmp_path / "s.glb")
    code, _, err = run_cli(["render", str(mesh), "--views", "sideways", "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "sideways" in err
    code, out, _ = run_cli(["info"], capsys)
    assert code == 0 and "renderer:" in out and "compute device:" in out and "torch" in out
    listed = {line.split(":")[0]: line.split(": ")[1].split(", ") for line in out.splitlines() if " (--" in line}
    assert {"embedded", "embedded-turbo", "procedural"} <= set(listed["generators (--backend)"])
    assert "llamacpp" in listed["augmenters (--augment, --llm)"] and "clip" in listed["evaluators (--evaluator)"]


def test_frames_belong_to_the_turntable_protocol(tmp_path, marked_asset, capsys):
    mesh = save_asset(marked_asset, tmp_path / "m.glb")
    code, _, err = run_cli(["render", str(mesh), "--frames", "5", "--out", str(tmp_path / "a"), "-r", "32"], capsys)
    assert code == 2 and "--frames 5: only --views turntable" in err and err.count("\n") == 1
    assert not (tmp_path / "a").exists()
    code, _, err = run_cli(["render", str(mesh), "--views", "turntable", "--frames", "3", "--out",
                            str(tmp_path / "t"), "-r", "32"], capsys)
    assert code == 0, err
    assert len(json.loads((tmp_path / "t" / "cameras.json").read_text())["views"]) == 3
