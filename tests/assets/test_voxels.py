import numpy as np
import pytest

from text3d.assets.voxels import VoxelGrid


def test_sphere_grid_to_mesh_volume_and_color():
    r = 32
    grid = VoxelGrid(np.zeros((r, r, r)), np.zeros((r, r, r, 3)))
    centers = grid.centers()
    inside = np.linalg.norm(centers, axis=-1) < 0.3
    grid.occupancy[inside] = 1.0
    grid.colors[..., 0] = np.where(centers[..., 0] > 0, 1.0, 0.0)  # red on +X, black on -X
    grid.colors[..., 2] = np.where(centers[..., 0] > 0, 0.0, 1.0)  # blue on -X
    asset = grid.to_asset()
    mesh = asset.to_trimesh()
    assert mesh.volume == pytest.approx(4 / 3 * np.pi * 0.3**3, rel=0.08)  # outward winding → positive
    assert np.all(np.abs(asset.vertices) <= 0.5)
    plus = asset.vertices[:, 0] > 0.1
    assert asset.vertex_colors[plus, 0].mean() > 0.9 and asset.vertex_colors[plus, 2].mean() < 0.1
    assert asset.vertex_colors[~plus & (asset.vertices[:, 0] < -0.1), 2].mean() > 0.9


def test_empty_grid_has_no_surface():
    grid = VoxelGrid(np.zeros((8, 8, 8)), np.zeros((8, 8, 8, 3)))
    with pytest.raises(ValueError, match="no surface"):
        grid.to_asset()


def test_shape_mismatch_is_rejected():
    with pytest.raises(ValueError):
        VoxelGrid(np.zeros((8, 8, 8)), np.zeros((8, 8, 3)))
