import numpy as np
import pytest
import torch

from text3d.errors import InputError
from text3d.render.cameras import Camera
from text3d.render.renderer import render
from text3d.triplane import TriplaneConfig, TriplaneField, extract_asset, render_volume

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CAMERAS = [Camera(yaw=0, pitch=30, resolution=48), Camera(yaw=110, pitch=-20, resolution=48),
           Camera(yaw=250, pitch=60, radius=1.7, resolution=48)]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def test_sphere_silhouette_depth_normals_match_the_opengl_render_of_its_mesh(offset_sphere):
    """An off-center sphere in the planes: the volume render's silhouette, depth and normals
    agree with text3d's OpenGL renderer of the extracted mesh at the same cameras (an axis or
    camera convention flip would move the disk)."""
    field, planes = offset_sphere
    with torch.no_grad():
        vol = render_volume(field, planes, CAMERAS, samples=64, inv_s=200.0)
    gl = render(extract_asset(field, planes, resolution=48), CAMERAS, depth=True, normals=True)
    mask = vol.opacity[0].numpy() > 0.5
    for v in range(len(CAMERAS)):
        assert iou(mask[v], gl.mask[v]) >= 0.9
    inner = mask & gl.mask & (vol.opacity[0].numpy() > 0.99)
    assert np.median(np.abs(vol.depth[0].numpy() - gl.depth)[inner]) < 0.01
    cos = (vol.normals[0].numpy() * gl.normals).sum(-1)[inner]
    assert np.median(cos) > 0.99
    assert vol.rgb.shape == (1, 3, 48, 48, 3) and torch.allclose(vol.rgb[0, 0, 0, 0], torch.ones(3))


def test_chunking_does_not_change_the_image(sphere):
    field, planes = sphere
    cams = CAMERAS[:1]
    with torch.no_grad():
        whole = render_volume(field, planes, cams, samples=16)
        chunked = render_volume(field, planes, cams, samples=16, max_points=17 * 50)
    for a, b in ((whole.rgb, chunked.rgb), (whole.opacity, chunked.opacity), (whole.normals, chunked.normals)):
        assert torch.allclose(a, b, atol=1e-5)


def test_gradients_are_finite_and_reach_planes_and_decoder():
    field = TriplaneField(TriplaneConfig(channels=8, resolution=16, texture_channels=3))
    planes = field.init_planes(2, std=0.1, generator=torch.Generator().manual_seed(0)).requires_grad_(True)
    cams = [[Camera(yaw=0, pitch=20, resolution=16)], [Camera(yaw=90, pitch=10, resolution=16)]]
    out = render_volume(field, planes, cams, samples=24, perturb=True, generator=torch.Generator().manual_seed(1))
    assert out.rgb.shape == (2, 1, 16, 16, 3) and out.eikonal is not None
    loss = (out.rgb - 0.3).square().mean() + out.opacity.mean() + out.normals.square().mean() + 0.1 * out.eikonal
    loss.backward()
    assert torch.isfinite(planes.grad).all() and planes.grad[:, :, :5].abs().sum() > 0  # geometry channels
    assert planes.grad[:, :, 5:].abs().sum() > 0  # texture channels
    assert all(torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0 for p in field.parameters())


def test_camera_lists_are_checked(sphere):
    field, planes = sphere
    with pytest.raises(InputError, match="camera lists"):
        render_volume(field, planes, [CAMERAS[:1], CAMERAS[:1]])
    with pytest.raises(InputError, match="resolution"):
        render_volume(field, planes, [CAMERAS[0], Camera(yaw=0, pitch=0, resolution=32)])


def test_checkpointed_chunks_give_the_same_gradients():
    field = TriplaneField(TriplaneConfig(channels=4, resolution=8))
    planes = field.init_planes(1, std=0.2, generator=torch.Generator().manual_seed(3))
    cams = [Camera(yaw=40, pitch=10, resolution=12)]
    grads = []
    for checkpoint in (False, True):
        p = planes.clone().requires_grad_(True)
        out = render_volume(field, p, cams, samples=16, max_points=17 * 40, checkpoint=checkpoint,
                            perturb=True, generator=torch.Generator().manual_seed(0))
        (out.rgb.sum() + out.normals.sum() + out.eikonal).backward()
        grads.append(p.grad)
    assert grads[0].abs().sum() > 0 and torch.allclose(grads[0], grads[1], atol=1e-6)


def test_skipping_empty_intervals_keeps_images_and_gradients():
    field = TriplaneField(TriplaneConfig(channels=8, resolution=16))
    planes = field.init_planes(1, std=0.1, generator=torch.Generator().manual_seed(2))
    cams = [Camera(yaw=60, pitch=15, resolution=16)]
    results = []
    for skip in (False, True):
        p = planes.clone().requires_grad_(True)
        out = render_volume(field, p, cams, samples=32, skip=skip)
        (out.rgb.mean() + out.opacity.mean() + out.normals.mean()).backward()
        results.append((out, p.grad))
    (full, g_full), (skipped, g_skip) = results
    assert torch.allclose(full.rgb, skipped.rgb, atol=1e-3) and torch.allclose(full.opacity, skipped.opacity, atol=1e-3)
    assert (g_full - g_skip).norm() < 0.01 * g_full.norm()


def test_bad_render_settings_are_input_errors(sphere):
    from text3d.triplane import render_mesh

    field, planes = sphere
    with pytest.raises(InputError, match="inv_s"):
        render_volume(field, planes, CAMERAS[:1], inv_s=0.0)
    with pytest.raises(InputError, match="samples"):
        render_volume(field, planes, CAMERAS[:1], samples=1)
    with pytest.raises(InputError, match="color"):
        render_mesh(field, planes, CAMERAS[:1], color="texture")
