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
