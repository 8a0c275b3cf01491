"""The two-pass path (linear colour, then sRGB encoding of the covered pixels) and the kept
per-camera uniforms must give exactly the pixels of a single sRGB pass."""

import numpy as np
import pytest
import trimesh

from text3d.assets.asset import Asset
from text3d.render.cameras import Camera, protocol_cameras
from text3d.render.raster import rasterize
from text3d.render.renderer import BACKGROUNDS, Renderer, render

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def single_pass(asset: Asset, cameras: list[Camera], background: str) -> tuple[np.ndarray, np.ndarray]:
    """(RGBA uint8 (N, H, W, 4), rows top-down) from the program that encodes sRGB in place,
    drawn into a fresh target: the one-pass rendering the two passes must reproduce."""
    import moderngl

    renderer = Renderer.shared()
    ctx, size = renderer.ctx, cameras[0].resolution
    program = renderer.program(asset.is_textured, asset.vertex_normals is not None, False, linear=False)
    buffers, owned, texture = renderer._upload(asset)
    vao = renderer._vertex_array(program, buffers)
    fbo = ctx.framebuffer(color_attachments=[ctx.renderbuffer((size, size), 4)],
                          depth_attachment=ctx.depth_renderbuffer((size, size)))
    out = np.empty((len(cameras), size, size, 4), np.uint8)
    ctx.enable(moderngl.DEPTH_TEST)
    ctx.disable(moderngl.CULL_FACE)
    try:
        for i, camera in enumerate(cameras):
            renderer._draw(vao, program, renderer._uniforms(camera), fbo, (*BACKGROUNDS[background][:3], 0.0), texture)
            fbo.read_into(out[i], components=4, dtype="f1")
    finally:
        for obj in (vao, fbo, *owned):
            obj.release()
    return out[:, ::-1], out[:, ::-1, :, 3] >= 128


def textured_box() -> Asset:
    box = trimesh.creation.box((0.6, 0.5, 0.4)).subdivide()
    rng = np.random.default_rng(1)
    return Asset(vertices=box.vertices, faces=box.faces, uv=(box.vertices[:, :2] + 0.5) % 1.0,
                 texture=rng.integers(0, 256, (32, 24, 3), dtype=np.uint8))


@pytest.mark.parametrize("background", ["white", "black", "transparent"])
def test_two_passes_match_one_srgb_pass(marked_asset, sphere_asset, background):
    normals = sphere_asset.copy()
    normals.vertex_normals = normals.vertices / np.linalg.norm(normals.vertices, axis=1, keepdims=True)
    cameras = protocol_cameras("clip8", 72)
    for asset in (marked_asset, normals, textured_box()):
        rgba, mask = single_pass(asset, cameras, background)
        result = render(asset, cameras, background=background)
        expected = rgba[..., :3] if background != "transparent" else Renderer._finish(rgba, transparent=True)
        assert np.array_equal(result.rgb, expected)
        assert np.array_equal(result.mask, mask)
        with_aux = render(asset, cameras, background=background, depth=True, normals=True)
        assert np.array_equal(with_aux.rgb, expected)


@pytest.mark.parametrize("aux", [False, True])
def test_kept_targets_hold_nothing_of_the_previous_asset(marked_asset, sphere_asset, aux):
    """The first pass does not clear the linear colour: only pixels it covers are encoded.
    (A second Renderer would make its own context current, so the reference is drawn into
    fresh buffers of the shared one.)"""
    cameras = protocol_cameras("canonical4", 64)
    render(marked_asset, cameras, background="black", depth=aux)
    after = render(sphere_asset, cameras, background="black", depth=aux)
    rgba, mask = single_pass(sphere_asset, cameras, "black")
    assert np.array_equal(after.rgb, rgba[..., :3]) and np.array_equal(after.mask, mask)
    if aux:
        assert np.all(after.depth[~mask] == 0) and np.all(after.depth[mask] > 0)


def test_kept_camera_uniforms_equal_fresh_ones(monkeypatch):
    import text3d.render.renderer as renderer_module

    renderer = Renderer.shared()
    camera = Camera(yaw=12.5, pitch=-7.0, resolution=32)
    kept = renderer._uniforms(camera)
    assert renderer._uniforms(camera) is kept
    assert kept == Renderer._compute_uniforms(Camera(yaw=12.5, pitch=-7.0, resolution=32))
    monkeypatch.setattr(renderer_module, "CAMERA_CACHE", 4)
    for yaw in range(10):
        renderer._uniforms(Camera(yaw=float(yaw), pitch=0.0, resolution=32))
    assert len(renderer._camera_uniforms) <= 4


def test_rendering_leaves_the_rasterizer_depth_test_as_it_was(marked_asset):
    """The encoding pass tests depth GREATER; the rasterizer on the same context needs LESS."""
    cameras = protocol_cameras("canonical4", 48)
    before = rasterize(marked_asset.vertices, marked_asset.faces, cameras)
    render(marked_asset, cameras)
    after = rasterize(marked_asset.vertices, marked_asset.faces, cameras)
    assert np.array_equal(before.triangle_id, after.triangle_id) and before.mask.any()
