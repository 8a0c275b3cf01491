import math

import numpy as np
import pytest
import torch
import trimesh

from text3d.assets import Asset
from text3d.render.cameras import Camera
from text3d.render.raster import rasterize
from text3d.render.renderer import render
from text3d.triplane import TriplaneConfig, TriplaneField, extract_asset, interpolate, march, render_mesh
from text3d.triplane.mesh_render import antialias, ray_barycentrics

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CAMERA = Camera(yaw=30, pitch=20, resolution=64)


def test_torch_barycentrics_equal_opengls(offset_sphere):
    field, planes = offset_sphere
    mesh = march(field, planes, resolution=32)
    faces = mesh.faces.numpy()
    raster = rasterize(mesh.vertices.detach().numpy(), faces, [CAMERA])
    ids = torch.from_numpy(raster.triangle_id[0]).long()
    bary, depth = ray_barycentrics(mesh.vertices, mesh.faces, ids, CAMERA)
    assert np.abs(bary.detach().numpy() - raster.barycentrics[0]).max() < 2e-3
    assert np.abs(depth.detach().numpy() - raster.depth[0]).max() < 1e-4
    values = interpolate(mesh.vertices, mesh.faces, ids, bary)  # surface points
    assert torch.allclose(values[~raster.mask[0]], torch.zeros(3))


def test_silhouette_and_colors_match_opengl_and_the_true_disk(sphere):
    """Thresholded coverage = the OpenGL renderer's mask of the extracted mesh; the antialiased
    coverage sums to the sphere's projected disk area (π·(f·tan asin(r/d))²) within 1%."""
    field, planes = sphere
    out = render_mesh(field, planes, [CAMERA], resolution=48, background=0.0)
    gl = render(extract_asset(field, planes, resolution=48), [CAMERA])
    soft = out.opacity[0, 0].detach().numpy()
    hard = soft > 0.5
    assert (hard & gl.mask[0]).sum() / (hard | gl.mask[0]).sum() >= 0.97
    disk = math.pi * (CAMERA.focal() * math.tan(math.asin(0.3 / CAMERA.radius))) ** 2
    assert abs(soft.sum() - disk) / disk < 0.01
    assert abs(out.triangle_id[0, 0].ge(0).sum().item() - disk) / disk > abs(soft.sum() - disk) / disk
    rgb = out.rgb[0, 0].detach().numpy()
    inside = soft > 0.999
    assert rgb[inside][:, 2].std() < 1e-3  # blue is constant; red grows with world x, which
    left, right = rgb[:, :28][inside[:, :28]][:, 0].mean(), rgb[:, 36:][inside[:, 36:]][:, 0].mean()
    assert left > right + 0.2  # yaw 30 puts on the image's left
    normals = out.normals[0, 0].detach().numpy()[inside]
    assert np.allclose(np.linalg.norm(normals, axis=-1), 1.0, atol=1e-4)


def test_image_loss_gradients_reach_the_planes():
    field = TriplaneField(TriplaneConfig(channels=8, resolution=16, texture_channels=3))
    planes = field.init_planes(1, std=0.05, generator=torch.Generator().manual_seed(0)).requires_grad_(True)
    for color in ("vertex", "pixel"):
        planes.grad = None
        out = render_mesh(field, planes, [CAMERA, Camera(yaw=200, pitch=-10, resolution=64)], resolution=24,
                          color=color)
        loss = (out.rgb - torch.tensor([0.8, 0.2, 0.1])).square().mean() + (1 - out.opacity).mean()
        loss.backward()
        grad = planes.grad
        assert torch.isfinite(grad).all()
        assert grad[:, :, :5].abs().sum() > 0 and grad[:, :, 5:].abs().sum() > 0  # geometry and texture


def test_fitting_a_target_silhouette_reduces_the_loss(sphere):
    """Silhouette gradients alone (antialiased coverage) grow a 0.3 sphere towards a 0.36 one."""
    field, planes = sphere
    target_mesh = trimesh.creation.icosphere(4, radius=0.36)
    cams = [Camera(yaw=30, pitch=20, resolution=48), Camera(yaw=150, pitch=-30, resolution=48)]
    target = torch.from_numpy(render(Asset(target_mesh.vertices, target_mesh.faces), cams).mask).float()
    planes = planes.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([planes], lr=0.01)
    losses = []
    for _ in range(4):
        optimizer.zero_grad()
        loss = (render_mesh(field, planes, cams, resolution=24).opacity[0] - target).square().mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_a_field_without_surface_renders_the_background():
    field = TriplaneField(TriplaneConfig(channels=4, resolution=8, sdf_bias_radius=-0.1))  # sdf > 0 everywhere
    out = render_mesh(field, field.init_planes(2), [CAMERA], resolution=16, background=0.25)
    assert out.opacity.abs().sum() == 0 and torch.allclose(out.rgb, torch.full_like(out.rgb, 0.25))
    assert (out.triangle_id == -1).all() and len(out.meshes[0].faces) == 0


def _covers(tri: np.ndarray, size: int) -> np.ndarray:
    """Pixels whose centers lie in the 2D triangle ``tri`` (3, 2), as a rasterizer decides."""
    u, v = np.meshgrid(np.arange(size) + 0.5, np.arange(size) + 0.5)
    e = [(b[0] - a[0]) * (v - a[1]) - (b[1] - a[1]) * (u - a[0]) for a, b in zip(tri, np.roll(tri, -1, 0))]
    return (np.stack(e) >= 0).all(0) | (np.stack(e) <= 0).all(0)


def test_antialiased_coverage_recovers_exact_areas_over_background_and_over_a_deeper_face():
    """A triangle (depth 2) over a square (depth 5): summed antialiased coverage equals the
    exact areas to ~0.3 %, both against the background and at the occlusion boundary."""
    size = 40
    verts = np.array([[2.2, 2.3], [37.6, 2.3], [37.6, 37.4], [2.2, 37.4], [8.3, 6.2], [33.7, 11.9], [14.3, 31.6]])
    ids = np.full((size, size), -1)
    ids[_covers(verts[[0, 1, 2]], size)] = 0
    ids[_covers(verts[[0, 2, 3]], size)] = 1
    ids[_covers(verts[4:], size)] = 2
    depth = np.select([ids == 2, ids >= 0], [2.0, 5.0], 0.0)
    silhouettes = np.array([[0, 1], [1, 2], [2, 3], [3, 0], [4, 5], [5, 6], [6, 4]])
    image = torch.tensor(np.stack([ids == 2, ids >= 0], -1), dtype=torch.float32)
    pixels = torch.tensor(verts, dtype=torch.float32, requires_grad=True)
    out = antialias(image, ids, depth, pixels, np.array([5.0] * 4 + [2.0] * 3), silhouettes, focal=100.0)
    d1, d2 = verts[5] - verts[4], verts[6] - verts[4]
    triangle, square = 0.5 * abs(d1[0] * d2[1] - d1[1] * d2[0]), 35.4 * 35.1
    assert abs(out[..., 0].sum().item() - triangle) / triangle < 0.003  # raster alone: 1.5 % off
    assert abs(out[..., 1].sum().item() - square) / square < 0.003
    out[..., 0].sum().backward()  # moving the triangle's corners outwards grows its coverage
    outward = torch.tensor(verts[4:] - verts[4:].mean(0), dtype=torch.float32)
    assert (pixels.grad[4:] * outward).sum() > 0 and pixels.grad[:4].abs().sum() < 1e-6
