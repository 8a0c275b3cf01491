import numpy as np
import pytest
import torch

from text3d.errors import InputError
from text3d.render.cameras import Camera, protocol_cameras
from text3d.render.raster import rasterize
from text3d.render.renderer import render

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_ids_cover_exactly_the_renderers_mask(sphere_asset):
    cams = protocol_cameras("canonical4", 64) + [Camera(yaw=20, pitch=-40, radius=1.6, resolution=64)]
    raster = rasterize(sphere_asset.vertices, sphere_asset.faces, cams)
    shaded = render(sphere_asset, cams, depth=True)
    assert raster.triangle_id.shape == (5, 64, 64) and raster.barycentrics.shape == (5, 64, 64, 3)
    assert np.array_equal(raster.mask, shaded.mask)
    assert np.allclose(raster.depth, shaded.depth, atol=1e-4)
    ids = raster.triangle_id
    assert ids[raster.mask].min() >= 0 and ids.max() < sphere_asset.n_faces
    assert (ids[~raster.mask] == -1).all() and (raster.barycentrics[~raster.mask] == 0).all()
    assert len(np.unique(ids[raster.mask])) > 100  # many faces seen, not one id everywhere


def test_barycentrics_reconstruct_each_pixels_surface_point(sphere_asset):
    """Σ b = 1, b ≥ 0, and Σ b_k v_k projects onto the pixel center at the pixel's depth."""
    from text3d.triplane.rays import project

    cam = Camera(yaw=35, pitch=25, resolution=48)
    raster = rasterize(sphere_asset.vertices, sphere_asset.faces, [cam])
    mask = raster.mask[0]
    bary = raster.barycentrics[0][mask]
    assert np.allclose(bary.sum(-1), 1.0, atol=1e-4) and bary.min() > -1e-3
    corners = sphere_asset.vertices[sphere_asset.faces[raster.triangle_id[0][mask]]]  # (N, 3, 3)
    points = (bary[..., None] * corners).sum(1)
    uv, z = project(torch.from_numpy(points), cam)
    rows, cols = np.nonzero(mask)
    assert np.abs(uv.numpy() - np.stack([cols + 0.5, rows + 0.5], -1)).max() < 0.02
    assert np.allclose(z.numpy(), raster.depth[0][mask], atol=1e-4)


def test_bad_input_and_empty_mesh(sphere_asset):
    cams = [Camera(yaw=0, pitch=0, resolution=16)]
    with pytest.raises(InputError, match="out of range"):
        rasterize(sphere_asset.vertices, sphere_asset.faces + 10_000, cams)
    with pytest.raises(InputError, match="resolution"):
        rasterize(sphere_asset.vertices, sphere_asset.faces, cams + [Camera(yaw=0, pitch=0, resolution=32)])
    empty = rasterize(sphere_asset.vertices, np.zeros((0, 3), int), cams)
    assert (empty.triangle_id == -1).all()
