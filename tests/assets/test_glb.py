"""text3d's GLB writer: valid glTF 2.0 that reads back exactly as trimesh's exporter's output does."""

import json
import struct

import numpy as np
import trimesh

from text3d.assets import Asset, load_asset
from text3d.assets.io import ROUGHNESS_ATTRIBUTE, _trimesh_for_export, asset_to_glb_bytes


def trimesh_glb(asset: Asset) -> bytes:
    """The same asset through trimesh's exporter (the writer text3d used before its own)."""
    scene = trimesh.Scene()
    scene.add_geometry(_trimesh_for_export(asset, "y", linear_colors=True), geom_name="asset", node_name="asset")
    return trimesh.exchange.gltf.export_glb(scene, include_normals=asset.vertex_normals is not None)


def chunks(data: bytes) -> tuple[dict, bytes]:
    magic, version, total = struct.unpack_from("<III", data, 0)
    assert (magic, version, total) == (0x46546C67, 2, len(data))
    json_len, json_kind = struct.unpack_from("<II", data, 12)
    bin_len, bin_kind = struct.unpack_from("<II", data, 20 + json_len)
    assert (json_kind, bin_kind) == (0x4E4F534A, 0x004E4942) and json_len % 4 == 0 and bin_len % 4 == 0
    return json.loads(data[20:20 + json_len]), data[28 + json_len:]


def textured_asset() -> Asset:
    rng = np.random.default_rng(1)
    box = trimesh.creation.box((0.6, 0.4, 0.2))
    return Asset(vertices=box.vertices, faces=box.faces, uv=rng.random((len(box.vertices), 2)),
                 texture=rng.integers(0, 256, (8, 16, 3), dtype=np.uint8), roughness=0.3)


def test_reads_back_like_trimeshs_export(tmp_path, sphere_asset):
    asset = sphere_asset.copy()
    asset.vertex_normals = asset.vertices / np.linalg.norm(asset.vertices, axis=1, keepdims=True)
    asset.vertex_roughness = np.linspace(0.1, 0.9, asset.n_vertices)
    asset.metadata = {"prompt": "a ball", "seed": 3, "nested": {"dropped": True}}
    for case, item in {"colored": asset, "textured": textured_asset()}.items():
        ours, theirs = tmp_path / f"{case}.glb", tmp_path / f"{case}-trimesh.glb"
        ours.write_bytes(asset_to_glb_bytes(item))
        theirs.write_bytes(trimesh_glb(item))
        a, b = load_asset(ours), load_asset(theirs)
        for name in ("vertices", "faces", "vertex_colors", "vertex_normals", "uv", "texture", "vertex_roughness"):
            x, y = getattr(a, name), getattr(b, name)
            assert (x is None) == (y is None), (case, name)
            if x is not None:
                assert np.array_equal(x, y), (case, name)
        assert (a.roughness, a.metallic) == (b.roughness, b.metallic) == (item.roughness, 0.0)


def test_json_follows_the_gltf_rules(sphere_asset):
    asset = sphere_asset.copy()
    asset.vertex_roughness = np.full(asset.n_vertices, 0.5)
    asset.metadata = {"prompt": "a ball"}
    tree, binary = chunks(asset_to_glb_bytes(asset))
    assert tree["asset"] == {"version": "2.0", "generator": "text3d", "extras": {"prompt": "a ball"}}
    assert tree["buffers"] == [{"byteLength": len(binary)}]
    prim = tree["meshes"][0]["primitives"][0]
    assert set(prim["attributes"]) == {"POSITION", "COLOR_0", ROUGHNESS_ATTRIBUTE}
    position = tree["accessors"][prim["attributes"]["POSITION"]]
    assert position["componentType"] == 5126 and position["count"] == asset.n_vertices
    view = tree["bufferViews"][position["bufferView"]]
    assert view["byteOffset"] % 4 == 0 and view["byteOffset"] + view["byteLength"] <= len(binary)
    stored = np.frombuffer(binary, np.float32, asset.n_vertices * 3, view["byteOffset"]).reshape(-1, 3)
    assert np.allclose(stored.max(axis=0), position["max"]) and np.allclose(stored.min(axis=0), position["min"])
    color = tree["accessors"][prim["attributes"]["COLOR_0"]]
    assert color["normalized"] is True and color["componentType"] == 5121 and color["type"] == "VEC4"

