import json
import struct

import numpy as np
import pytest
import trimesh

from text3d.assets import Asset, load_asset, save_asset
from text3d.assets.color import linear_to_srgb, srgb_to_linear
from text3d.assets.io import Y_UP, asset_to_glb_bytes
from text3d.errors import InputError


def raw_colors(mesh) -> np.ndarray:
    """COLOR_0 as trimesh read it, without text3d's conversions."""
    attrs = getattr(mesh.visual, "vertex_attributes", {})
    return np.asarray(attrs["color"] if "color" in attrs else mesh.visual.vertex_colors)


def glb_json(path) -> dict:
    data = path.read_bytes()
    length = struct.unpack_from("<I", data, 12)[0]
    return json.loads(data[20:20 + length])


def test_srgb_linear_inverse():
    x = np.linspace(0, 1, 1001, dtype=np.float32)
    assert np.allclose(linear_to_srgb(srgb_to_linear(x)), x, atol=1e-5)
    assert srgb_to_linear(np.float32(0.5)) == pytest.approx(0.2140, abs=1e-4)


def test_glb_is_y_up_and_reads_back_z_up(tmp_path, sphere_asset):
    asset = sphere_asset.copy()
    asset.vertices[0] = (0.1, 0.2, 0.3)
    path = save_asset(asset, tmp_path / "a.glb")
    raw = trimesh.load(str(path), force="scene", process=False).dump(concatenate=False)[0]
    # (x, y, z) in text3d → (x, z, -y) in the file
    assert np.allclose(raw.vertices[0], (0.1, 0.3, -0.2), atol=1e-6)
    assert np.allclose(np.array([[0.1, 0.2, 0.3]]) @ Y_UP, [[0.1, 0.3, -0.2]])
    back = load_asset(path)
    assert np.allclose(back.vertices, asset.vertices, atol=1e-6)


def test_glb_material_is_non_metallic_pbr_with_linear_colors(tmp_path, sphere_asset):
    path = save_asset(sphere_asset, tmp_path / "a.glb")
    tree = glb_json(path)
    pbr = tree["materials"][0]["pbrMetallicRoughness"]
    assert pbr["metallicFactor"] == 0.0
    assert 0.0 < pbr["roughnessFactor"] <= 1.0
    prim = tree["meshes"][0]["primitives"][0]
    assert "COLOR_0" in prim["attributes"] and prim["material"] == 0
    raw = list(trimesh.load(str(path), force="scene", process=False).geometry.values())[0]
    stored = raw_colors(raw)[:, :3] / 255.0
    assert np.allclose(stored, sphere_asset.vertex_colors[:, :3], atol=0.5 / 255 + 1e-6)  # linear, not sRGB


def test_glb_asset_glb_round_trip_is_exact(tmp_path, sphere_asset):
    first = tmp_path / "first.glb"
    first.write_bytes(asset_to_glb_bytes(sphere_asset))
    asset = load_asset(first)
    second = save_asset(asset, tmp_path / "second.glb")
    a = list(trimesh.load(str(first), force="scene", process=False).geometry.values())[0]
    b = list(trimesh.load(str(second), force="scene", process=False).geometry.values())[0]
    assert np.array_equal(a.faces, b.faces)
    assert np.allclose(a.vertices, b.vertices, atol=1e-7)
    assert np.array_equal(raw_colors(a), raw_colors(b))


def test_vertex_roughness_survives_glb(tmp_path, sphere_asset):
    asset = sphere_asset.copy()
    asset.vertex_roughness = np.linspace(0.1, 0.9, asset.n_vertices).astype(np.float32)
    back = load_asset(save_asset(asset, tmp_path / "r.glb"))
    assert np.allclose(back.vertex_roughness, asset.vertex_roughness)


def test_textured_asset_round_trip(tmp_path):
    quad = Asset(vertices=[[0, 0, 0], [1, 0, 0], [1, 0, 1], [0, 0, 1]], faces=[[0, 1, 2], [0, 2, 3]],
                 uv=[[0, 0], [1, 0], [1, 1], [0, 1]],
                 texture=np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype=np.uint8))
    back = load_asset(save_asset(quad, tmp_path / "t.glb"))
    assert back.is_textured
    assert np.allclose(back.uv, quad.uv, atol=1e-6)
    assert np.array_equal(back.texture[..., :3], quad.texture)


@pytest.mark.parametrize("suffix", [".obj", ".ply"])
def test_obj_ply_round_trip_keeps_colors(tmp_path, sphere_asset, suffix):
    back = load_asset(save_asset(sphere_asset, tmp_path / f"a{suffix}"))
    assert back.n_faces == sphere_asset.n_faces
    assert np.allclose(back.vertices, sphere_asset.vertices, atol=1e-5)
    # 8-bit sRGB on disk: at most half a code value of error in sRGB
    err = np.abs(linear_to_srgb(back.vertex_colors[:, :3]) - linear_to_srgb(sphere_asset.vertex_colors[:, :3]))
    assert err.max() <= 0.5 / 255 + 1e-4


def test_multi_mesh_scene_is_merged_with_transforms(tmp_path):
    scene = trimesh.Scene()
    box = trimesh.creation.box((1, 1, 1))
    scene.add_geometry(box, node_name="a", transform=trimesh.transformations.translation_matrix((5, 0, 0)))
    scene.add_geometry(box.copy(), node_name="b")
    path = tmp_path / "scene.glb"
    scene.export(str(path))
    asset = load_asset(path)
    assert asset.n_faces == 24
    assert asset.bounds()[1][0] == pytest.approx(5.5)


def test_normalized_fits_unit_cube(sphere_asset):
    a = sphere_asset.copy()
    a.vertices = a.vertices * 7 + 3
    lo, hi = a.normalized().bounds()
    assert np.max(hi - lo) == pytest.approx(1.0, abs=1e-6)
    assert np.allclose((lo + hi) / 2, 0, atol=1e-6)


def test_face_limit_is_enforced_before_loading(tmp_path, sphere_asset, monkeypatch):
    path = save_asset(sphere_asset, tmp_path / "a.glb")
    monkeypatch.setenv("TEXT3D_MAX_FACES", "100")
    with pytest.raises(InputError, match="more than the limit"):
        load_asset(path)


def test_validate_rejects_bad_indices():
    with pytest.raises(InputError, match="out of range"):
        Asset(vertices=np.zeros((3, 3)) + [[0, 0, 0], [1, 0, 0], [0, 1, 0]], faces=[[0, 1, 5]]).validate()
