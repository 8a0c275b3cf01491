import numpy as np
import pytest
import torch

from text3d.assets import Asset
from text3d.render.cameras import Camera
from text3d.render.renderer import render
from text3d.triplane import render_mesh, render_volume
from text3d.triplane.marching import vertex_normals
from text3d.triplane.shading import shade

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CAMERAS = [Camera(yaw=30, pitch=20, resolution=48), Camera(yaw=200, pitch=-40, resolution=48)]


def test_shaded_mesh_render_equals_the_opengl_renderer(offset_sphere):
    """Same mesh, colors and normals: torch shading = the renderer's pixels inside the silhouette."""
    field, planes = offset_sphere
    out = render_mesh(field, planes, CAMERAS, resolution=32, background=0.0)
    mesh = out.meshes[0]
    vertices = mesh.vertices.detach()
    asset = Asset(vertices=vertices.numpy(), faces=mesh.faces.numpy(),
                  vertex_colors=field.rgb(planes, vertices[None])[0].detach().numpy(),
                  vertex_normals=vertex_normals(vertices, mesh.faces).numpy())
    gl = render(asset, CAMERAS, background="white")
    ours = np.rint(shade(out.rgb[0], out.normals[0], out.opacity[0], CAMERAS).detach().numpy() * 255)
    inner = gl.mask & (out.opacity[0].detach().numpy() > 0.999)
    assert inner.sum() > 300
    assert np.abs(ours - gl.rgb)[inner].max() <= 1
    assert (ours[~gl.mask & (out.opacity[0].detach().numpy() == 0)] == 255).all()  # white background


def test_shaded_volume_render_is_close_and_differentiable(sphere):
    field, planes = sphere
    planes = planes.clone().requires_grad_(True)
    out = render_volume(field, planes, CAMERAS[:1], samples=48, inv_s=200.0, background=0.0)
    image = shade(out.rgb[0], out.normals[0], out.opacity[0], CAMERAS[:1], background=0.0)
    image.mean().backward()
    assert torch.isfinite(planes.grad).all() and planes.grad.abs().sum() > 0
    mesh = render_mesh(field, planes.detach(), CAMERAS[:1], resolution=48, background=0.0)
    mesh_image = shade(mesh.rgb[0], mesh.normals[0], mesh.opacity[0], CAMERAS[:1], background=0.0)
    both = out.opacity[0] > 0.99
    assert (image - mesh_image).abs()[both].mean() < 0.02
