"""The views embedded evaluators read: RGB, and camera-space normal maps for evaluators that ask."""

import numpy as np

from text3d.eval.evaluators.base import evaluator_cameras, render_small


def test_normal_maps_are_camera_space_and_match_the_rgb_views(sphere_asset):
    sphere = sphere_asset  # radius 0.4: ~17 px in a 64² view
    cameras = evaluator_cameras(4)
    rgb = render_small(sphere, cameras)
    both = render_small(sphere, cameras, normals=True)
    assert rgb.shape == (4, 64, 64, 3) and both.shape == (4, 64, 64, 6)
    np.testing.assert_array_equal(both[..., :3], rgb)
    n = both[..., 3:].astype(np.float64) / 127.5 - 1.0  # decoded: (V, 64, 64, 3)
    centre = n[:, 30:34, 30:34].reshape(4, -1, 3).mean(1)
    np.testing.assert_allclose(centre, np.tile([0.0, 0.0, 1.0], (4, 1)), atol=0.06)  # faces the camera
    # right of centre the sphere's normal leans +x (camera right), above it +y (camera up), in every view
    assert (n[:, 32, 44, 0] > 0.3).all() and (n[:, 20, 32, 1] > 0.3).all()
    assert np.abs(n[:, :3, :3]).max() < 0.01  # background: n = 0
