import numpy as np
import pytest

from text3d.render.cameras import Camera
from text3d.render.points import (
    backproject,
    farthest_point_sampling,
    farthest_point_sampling_reference,
    normalize_to_unit_sphere,
    read_point_ply,
    sample_surface_points,
    write_point_ply,
)
from text3d.render.renderer import render


def test_backprojected_depth_lies_on_the_surface(sphere_asset):
    cam = Camera(yaw=70, pitch=-20, resolution=128)
    result = render(sphere_asset, [cam], depth=True)
    pts = backproject(result.depth[0], cam, result.mask[0])
    radii = np.linalg.norm(pts, axis=1)
    assert len(pts) > 1000
    assert np.all(np.abs(radii - 0.4) < 0.01)  # icosphere(3) facets deviate < 1% of r


def test_fps_matches_a_brute_force_reference():
    rng = np.random.default_rng(0)
    pts = rng.random((500, 3))
    idx = farthest_point_sampling_reference(pts, 20, start=3)
    chosen = [3]
    for _ in range(19):
        d = np.min(np.linalg.norm(pts[:, None] - pts[chosen][None], axis=2), axis=1)
        chosen.append(int(np.argmax(d)))
    assert idx.tolist() == chosen


def coverage_radius(points, chosen):
    return np.min(np.linalg.norm(points[:, None] - points[chosen][None], axis=2), axis=1).max()


def test_fast_fps_covers_as_well_as_the_reference():
    pts = np.random.default_rng(1).normal(size=(3000, 3))
    fast = farthest_point_sampling(pts, 300, start=7)
    ref = farthest_point_sampling_reference(pts, 300, start=7)
    assert len(np.unique(fast)) == 300
    assert coverage_radius(pts, fast) <= 1.02 * coverage_radius(pts, ref)
    random = np.random.default_rng(2).choice(3000, 300, replace=False)
    assert coverage_radius(pts, fast) < 0.8 * coverage_radius(pts, random)


def test_surface_points_cover_the_object(sphere_asset, tmp_path):
    cloud = sample_surface_points(sphere_asset, n_points=4000, resolution=128)
    pts = cloud["points"]
    assert pts.shape == (4000, 3) and len(np.unique(pts, axis=0)) == 4000
    assert np.all(np.abs(np.linalg.norm(pts, axis=1) - 0.4) < 0.015)
    assert pts[:, 2].min() < -0.35 and pts[:, 2].max() > 0.35  # top and bottom both seen
    path = write_point_ply(tmp_path / "p.ply", pts, cloud["normals"], cloud["colors"])
    assert np.allclose(read_point_ply(path), pts, atol=1e-6)
    unit = normalize_to_unit_sphere(pts)
    assert np.max(np.linalg.norm(unit, axis=1)) == pytest.approx(1.0)


def test_voxel_downsample_keeps_the_first_point_of_each_voxel():
    from text3d.render.points import voxel_downsample

    rng = np.random.default_rng(3)
    for size, voxel in ((1, 0.1), (5000, 0.05), (20000, 0.3)):
        points = rng.normal(size=(size, 3))
        keys = np.floor(points / voxel).astype(np.int64)
        _, first = np.unique(keys, axis=0, return_index=True)
        assert np.array_equal(voxel_downsample(points, voxel), np.sort(first))
