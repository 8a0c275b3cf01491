"""Stage 2's view choice: exact point visibility and the least occluded of four yaws."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from text3d.align.views import least_occluded_view, sample_surface, visible_points
from text3d.assets import Asset
from text3d.data.toyworld.instance import make_instance
from text3d.errors import InputError
from text3d.render.cameras import Camera


def _asset(meshes: list[trimesh.Trimesh]) -> Asset:
    mesh = trimesh.util.concatenate(meshes)
    return Asset(vertices=mesh.vertices, faces=mesh.faces)


def _box(size: tuple[float, float, float], centre: tuple[float, float, float]) -> trimesh.Trimesh:
    return trimesh.creation.box(size, trimesh.transformations.translation_matrix(centre))


def _crate_with_box(turn_degrees: float = 0.0) -> tuple[Asset, int]:
    """A 1 m crate of 4 cm walls open on its −Y side (turned about +Z), a 0.3 m box inside;
    returns the asset and the number of its faces that belong to the small box (the last ones)."""
    t = 0.04
    walls = [_box((1, 1, t), (0, 0, -0.5 + t / 2)), _box((1, 1, t), (0, 0, 0.5 - t / 2)),  # floor, lid
             _box((t, 1, 1), (-0.5 + t / 2, 0, 0)), _box((t, 1, 1), (0.5 - t / 2, 0, 0)),  # −X, +X walls
             _box((1, t, 1), (0, 0.5 - t / 2, 0))]  # +Y wall; −Y stays open
    small = _box((0.3, 0.3, 0.3), (0, 0, -0.5 + t + 0.15))
    mesh = trimesh.util.concatenate(walls + [small])
    mesh.apply_transform(trimesh.transformations.rotation_matrix(np.radians(turn_degrees), (0, 0, 1)))
    return Asset(vertices=mesh.vertices, faces=mesh.faces), len(small.faces)


def _brute_force_visible(vertices: np.ndarray, faces: np.ndarray, points: np.ndarray, owner: np.ndarray,
                         eye: np.ndarray) -> np.ndarray:
    """Reference: every triangle against every point, by plane intersection and edge sides."""
    v = vertices.astype(np.float64)[faces]
    d = eye[None, :] - points  # (n, 3) segment point → eye
    hidden = np.zeros(len(points), bool)
    for k, (a, b, c) in enumerate(v):
        normal = np.cross(b - a, c - a)
        denom = d @ normal
        with np.errstate(divide="ignore", invalid="ignore"):
            s = ((a - points) @ normal) / denom
        x = points + s[:, None] * d
        inside = np.ones(len(points), bool)
        for p, q in ((a, b), (b, c), (c, a)):
            inside &= (np.cross(q - p, x - p) @ normal) >= 0
        hit = inside & (np.abs(denom) > 1e-14) & (s * np.linalg.norm(d, axis=1) > 1e-5) & (s < 1) & (owner != k)
        hidden |= hit
    return ~hidden


@pytest.mark.parametrize("source", ["toyworld", "spheres"])
def test_culled_ray_casting_matches_brute_force(source):
    if source == "toyworld":
        asset = make_instance("chair", 3).obj.to_asset()  # a real toyworld mesh, parts overlapping
    else:
        big = trimesh.creation.icosphere(2, radius=0.3)
        small = trimesh.creation.icosphere(1, radius=0.12)
        small.apply_translation((0.0, -0.45, 0.1))  # in front of the big one as seen from yaw 180
        asset = _asset([big, small])
    points, owner = sample_surface(asset.vertices, asset.faces, 2000, seed=1)
    for yaw in (0.0, 90.0, 180.0, 270.0):
        eye = Camera(yaw=yaw, pitch=30.0).position()
        fast = visible_points(asset.vertices, asset.faces, points, owner, eye)
        reference = _brute_force_visible(asset.vertices, asset.faces, points, owner, eye)
        assert 0.1 < reference.mean() < 0.9  # the case has both visible and hidden points
        assert (fast == reference).mean() >= 0.98, yaw


@pytest.mark.parametrize("seed", [0, 5, 11])
def test_the_depth_cull_drops_no_occluder(seed):
    from text3d.align.scenes import _stage2_instance

    asset = _stage2_instance(seed).obj.to_asset()  # toyworld objects: parts in front of parts
    points, owner = sample_surface(asset.vertices, asset.faces, 3000, seed=seed)
    for yaw in (0.0, 90.0, 180.0, 270.0):
        eye = Camera(yaw=yaw, pitch=30.0).position()
        culled = visible_points(asset.vertices, asset.faces, points, owner, eye)
        kept = visible_points(asset.vertices, asset.faces, points, owner, eye, depth_cull=False)
        assert 0.1 < kept.mean() < 0.95 and np.array_equal(culled, kept), yaw


def test_lone_sphere_sees_its_cap():
    # from distance d a sphere of radius R shows the cap (1 − R/d)/2 of its area
    sphere = trimesh.creation.icosphere(3, radius=0.4)
    asset = Asset(vertices=sphere.vertices, faces=sphere.faces)
    for radius in (2.0, 50.0):
        choice = least_occluded_view(asset, radius=radius, n_points=5000)
        expected = (1.0 - 0.4 / radius) / 2.0
        assert np.allclose(choice.visible, expected, atol=0.025), (radius, choice.visible)


def test_only_what_lies_between_point_and_eye_hides():
    sphere = trimesh.creation.icosphere(2, radius=0.4)
    wall = _box((4.0, 0.05, 4.0), (0.0, 3.0, 0.0))  # behind the yaw-0 camera, which sits at y ≈ 1.7
    alone = Asset(vertices=sphere.vertices, faces=sphere.faces)
    both = _asset([sphere, wall])
    points, owner = sample_surface(alone.vertices, alone.faces, 2000, seed=2)
    eye = Camera(yaw=0.0, pitch=30.0).position()
    expected = visible_points(alone.vertices, alone.faces, points, owner, eye)
    assert 0.3 < expected.mean() < 0.5
    assert np.array_equal(visible_points(both.vertices, both.faces, points, owner, eye), expected)
    # the same wall between sphere and eye hides everything
    front = _asset([sphere, _box((4.0, 0.05, 4.0), (0.0, 1.0, 0.0))])
    assert not visible_points(front.vertices, front.faces, points, owner, eye).any()


def test_chooses_the_side_where_the_hidden_box_shows():
    asset, n_small = _crate_with_box()
    choice = least_occluded_view(asset)
    assert choice.yaw == 180.0 and choice.index == 2  # the camera on −Y looks into the crate
    assert choice.visible[2] > max(choice.visible[i] for i in (0, 1, 3)) + 0.05
    assert choice.camera == Camera(yaw=180.0, pitch=30.0, radius=2.0, fov=40.0, resolution=512)

    # the small box itself: seen through the opening only
    points, owner = sample_surface(asset.vertices, asset.faces, 20000, seed=0)
    in_small = owner >= asset.n_faces - n_small
    assert in_small.sum() > 200
    for yaw, seen in ((0.0, False), (90.0, False), (180.0, True), (270.0, False)):
        visible = visible_points(asset.vertices, asset.faces, points, owner, Camera(yaw=yaw, pitch=30.0).position())
        fraction = visible[in_small].mean()
        assert fraction > 0.3 if seen else fraction == 0.0, (yaw, fraction)

    turned, _ = _crate_with_box(turn_degrees=90.0)  # the opening now faces +X, where yaw 90 stands
    assert least_occluded_view(turned).yaw == 90.0


def test_ties_go_to_the_first_yaw():
    # looking straight down every yaw has the same eye, so every candidate sees the same points
    sphere = trimesh.creation.icosphere(2, radius=0.4)
    asset = Asset(vertices=sphere.vertices, faces=sphere.faces)
    choice = least_occluded_view(asset, yaws=(270.0, 0.0, 90.0), pitch=90.0, n_points=1000)
    assert len(set(choice.visible)) == 1
    assert (choice.yaw, choice.index) == (270.0, 0)


def test_samples_are_uniform_by_area_and_seeded():
    # two triangles, the second three times the area of the first
    vertices = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [3, 0, 1], [0, 1, 1]], float)
    faces = np.array([[0, 1, 2], [3, 4, 5]])
    points, owner = sample_surface(vertices, faces, 8000, seed=3)
    assert abs(owner.mean() - 0.75) < 0.02
    assert np.allclose(points[owner == 1, 2], 1.0) and np.allclose(points[owner == 0, 2], 0.0)
    assert np.all(points[:, :2] >= -1e-12) and np.all(points[owner == 1, 0] + 3 * points[owner == 1, 1] <= 3 + 1e-9)
    again, _ = sample_surface(vertices, faces, 8000, seed=3)
    other, _ = sample_surface(vertices, faces, 8000, seed=4)
    assert np.array_equal(points, again) and not np.array_equal(points, other)


def test_rejects_bad_arguments():
    sphere = trimesh.creation.icosphere(1)
    asset = Asset(vertices=sphere.vertices, faces=sphere.faces)
    with pytest.raises(InputError):
        least_occluded_view(asset, yaws=())
    with pytest.raises(InputError):
        least_occluded_view(asset, n_points=0)
