"""Depth PNGs written by render_views decode back to the renderer's depth (to 0.1 mm)."""

import numpy as np
from PIL import Image

from text3d.render.cameras import protocol_cameras
from text3d.render.renderer import render
from text3d.render.views import DEPTH_SCALE, decode_depth, encode_depth, render_views


def test_depth_pngs_round_trip(tmp_path, sphere_asset):
    render_views(sphere_asset, tmp_path, "canonical4", resolution=64, depth=True)
    expected = render(sphere_asset, protocol_cameras("canonical4", 64), depth=True).depth
    for i in range(4):
        decoded = decode_depth(np.asarray(Image.open(tmp_path / "depth" / f"{i:03d}.png")))
        assert decoded.dtype == np.float32 and decoded.shape == (64, 64)
        assert np.abs(decoded - expected[i]).max() <= 0.5 / DEPTH_SCALE + 1e-6
        assert (decoded > 0).sum() > 100 and decoded[0, 0] == 0.0  # object in the middle, background empty
    assert np.array_equal(encode_depth(decode_depth(np.array([0, 1, 65535], np.uint16))), [0, 1, 65535])


def test_blank_renders_are_refused(tmp_path):
    import pytest

    from text3d.assets import Asset
    from text3d.errors import InputError

    flat = Asset(vertices=np.array([[0.0, 0, 0], [0.5, 0, 0], [1.0, 0, 0]]), faces=np.array([[0, 1, 2]]))
    with pytest.raises(InputError, match="blank"):
        render_views(flat, tmp_path / "v", "canonical4", resolution=32)
    from text3d.render.views import render_protocols

    with pytest.raises(InputError, match="item x: every view is blank"):
        render_protocols(flat, {"clip8": tmp_path / "c"}, 32, label="item x")


def test_shared_cameras_are_drawn_once_and_match_render_views(tmp_path, sphere_asset):
    from text3d.render.views import render_protocols

    docs = render_protocols(sphere_asset, {"canonical4": tmp_path / "a", "clip8": tmp_path / "b"}, 48)
    render_views(sphere_asset, tmp_path / "c", "canonical4", resolution=48)
    for i in range(4):
        same = (tmp_path / "a" / f"{i:03d}.png").read_bytes()
        assert same == (tmp_path / "b" / f"{2 * i:03d}.png").read_bytes()
        assert same == (tmp_path / "c" / f"{i:03d}.png").read_bytes()
    assert [v["yaw"] for v in docs["clip8"]["views"]] == [45.0 * i for i in range(8)]


def test_views_match_and_reuse_rules(tmp_path, sphere_asset):
    import json
    import os

    from text3d.assets import save_asset
    from text3d.render.cameras import cameras_json
    from text3d.render.views import glb_is_whole, reusable_views, views_match

    doc = cameras_json("clip8", protocol_cameras("clip8", 64))
    assert views_match(doc, "clip8") and views_match(doc, "clip8", 64) and not views_match(doc, "clip8", 32)
    assert not views_match(doc, "canonical4")
    doc["views"][3]["pitch"] = 31.0
    assert not views_match(doc, "clip8")
    asset = tmp_path / "asset.glb"
    save_asset(sphere_asset, asset)
    assert glb_is_whole(asset)
    render_views(sphere_asset, tmp_path / "with", "canonical4", 32, source=asset)
    render_views(sphere_asset, tmp_path / "without", "canonical4", 32)
    assert json.loads((tmp_path / "with" / "cameras.json").read_text())["asset"]["bytes"] == asset.stat().st_size
    assert reusable_views(tmp_path / "with", "canonical4", 32, asset) and reusable_views(tmp_path / "without",
                                                                                        "canonical4", 32, asset)
    assert reusable_views(tmp_path / "with", "canonical4", 64, asset) is None
    future = asset.stat().st_mtime_ns + 10**10
    os.utime(asset, ns=(future, future))  # newer than the views: only the recorded digest still vouches
    assert reusable_views(tmp_path / "with", "canonical4", None, asset)
    assert reusable_views(tmp_path / "without", "canonical4", None, asset) is None
    asset.write_bytes(asset.read_bytes()[:-7])
    os.utime(asset, ns=(0, 0))
    assert not glb_is_whole(asset)
    assert reusable_views(tmp_path / "with", "canonical4", None, asset) is None
    assert reusable_views(tmp_path / "without", "canonical4", None, asset) is None
