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


def background_pixels(views: np.ndarray) -> np.ndarray:
    """(V,) count of pixels that are white in RGB and n = 0 in the normal map."""
    white = (views[..., :3] >= 254).all(-1)
    no_normal = (np.abs(views[..., 3:].astype(int) - 128) <= 1).all(-1)
    return (white & no_normal).sum(axis=(1, 2))


def holed_sphere(sphere, camera):
    """``sphere`` (radius 0.4) without the cap of ≈ 0.17 radius that ``camera`` looks at."""
    facing = camera.position() / np.linalg.norm(camera.position())
    centroids = sphere.vertices[sphere.faces].mean(axis=1)
    holed = sphere.copy()
    holed.faces = sphere.faces[centroids @ facing < 0.9 * 0.4]
    return holed


def facing_away(views: np.ndarray) -> np.ndarray:
    """(V,) count of covered pixels whose camera-space normal points away from the camera (n_z < −0.3)."""
    n = views[..., 3:].astype(np.float64) / 127.5 - 1.0
    return ((n[..., 2] < -0.3) & (np.abs(n).sum(-1) > 0.05)).sum(axis=(1, 2))


def test_see_through_views_show_the_background_through_a_hole_and_change_nothing_without_one(sphere_asset):
    cameras = evaluator_cameras(4)
    closed = render_small(sphere_asset, cameras, normals=True)
    np.testing.assert_array_equal(render_small(sphere_asset, cameras, normals=True, see_through=True), closed)
    holed = holed_sphere(sphere_asset, cameras[0])
    two_sided = render_small(holed, cameras, normals=True)
    see_through = render_small(holed, cameras, normals=True, see_through=True)
    # two-sided, the hole shows the sphere's inside (no more background than the closed sphere);
    # culled, the inside's back faces vanish and the background shows through the hole
    assert background_pixels(two_sided)[0] <= background_pixels(closed)[0] + 5
    assert background_pixels(see_through)[0] >= background_pixels(closed)[0] + 60


def test_back_normals_mark_the_inside_of_a_hole_and_change_nothing_without_one(sphere_asset):
    cameras = evaluator_cameras(4)
    closed = render_small(sphere_asset, cameras, normals=True)
    np.testing.assert_array_equal(render_small(sphere_asset, cameras, normals=True, back_normals=True), closed)
    holed = holed_sphere(sphere_asset, cameras[0])
    flipped = render_small(holed, cameras, normals=True)
    kept = render_small(holed, cameras, normals=True, back_normals=True)
    np.testing.assert_array_equal(kept[..., :3], flipped[..., :3])  # the shading stays two-sided
    # through the hole view 0 sees the sphere's inside: facing away only with back_normals
    assert facing_away(flipped).max() == 0
    assert facing_away(kept)[0] >= 60 and facing_away(kept)[1:].max() <= 5
    # a later call without it gets camera-facing normals again (the shader setting is not left on)
    np.testing.assert_array_equal(render_small(holed, cameras, normals=True), flipped)
