"""Offscreen rasterizer on OpenGL 3.3 through EGL (moderngl): Mesa llvmpipe on a CPU,
the GPU driver where there is one.

Plain colour: one pass shades every fragment up to its linear colour (float32) and a
full-screen pass encodes the covered pixels as sRGB. With normals/depth: one pass writes the
sRGB colour and them. With ``antialias``: one multisampled pass renders the sRGB colour and a
second one without multisampling writes exact per-pixel world normals and depth (so
back-projected points never mix foreground and background). Back faces are skipped where
that changes no pixel (:func:`text3d.render.culling.cull_back_faces`). The shading
(text3d.render.glsl) is lit by a key and a fill light fixed to the camera, so every view is lit alike.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

import numpy as np

from text3d.assets.asset import Asset
from text3d.errors import BackendError, InputError
from text3d.render.cameras import Camera
from text3d.render.culling import cull_back_faces
from text3d.render.glsl import ATTRIBUTES, ENCODE_FRAGMENT_SHADER, ENCODE_VERTEX_SHADER, FRAGMENT_SHADER, VERTEX_SHADER

log = logging.getLogger(__name__)

BACKGROUNDS = {"black": (0.0, 0.0, 0.0, 1.0), "white": (1.0, 1.0, 1.0, 1.0), "transparent": (0.0, 0.0, 0.0, 0.0)}

GROUP_VIEWS = 8
GROUP_PIXELS = 8 * 512 * 512
"""Views queued before reading back: at most 8, and at most as many pixels as 8 views at 512²
(kept targets per pixel: 24 bytes, 24 with normals/depth, 36 with 4× MSAA; ≈ 50–75 MB each kind)."""

CAMERA_CACHE = 256
"""Cameras whose uniform values are kept (the protocols reuse a few dozen cameras)."""


@dataclass
class RenderResult:
    """Images of one asset from several cameras (index i ↔ cameras[i]).

    ``rgb``: uint8 (N, H, W, 3), or (N, H, W, 4) with straight alpha for a transparent
    background; ``mask``: bool (N, H, W); ``depth``: float32 (N, H, W) camera-space z in
    world units, 0 on background; ``normals``: float32 (N, H, W, 3) world-space unit
    normals facing the camera (with ``back_normals``, back faces' facing away), 0 on background.
    """

    rgb: np.ndarray
    mask: np.ndarray
    cameras: list[Camera]
    depth: np.ndarray | None = None
    normals: np.ndarray | None = None


def _camera_lights(camera: Camera) -> tuple[np.ndarray, np.ndarray]:
    """Key light from the camera's upper left front, fill from its lower right (world dirs)."""
    c2w = camera.c2w_opengl()[:3, :3]
    key = c2w @ np.array([-0.45, 0.65, 0.62])
    fill = c2w @ np.array([0.6, -0.3, 0.75])
    return key / np.linalg.norm(key), fill / np.linalg.norm(fill)


def rasterizer_threads() -> int:
    """llvmpipe rasterizer threads when LP_NUM_THREADS is not set: one more than the cores
    this process may run on. Each view's tiles are shared out among the threads and a view
    ends when its last tile does; with one thread per core, a core idles while the other
    finishes its last tiles, with one more the spare thread fills it (benchmarks/bench_render.py,
    2 cores: 4 views at 512² in ~57 ms instead of ~62, pixel-identical)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return cores + 1


class Renderer:
    """A process-wide offscreen renderer; create it once and reuse it (context start ≈ 0.3 s)."""

    _instance: "Renderer | None" = None
    _lock = threading.Lock()

    def __init__(self, samples: int = 4) -> None:
        """``samples``: MSAA sample count used by ``render(..., antialias=True)``.

        Measured on 2 cores with llvmpipe (benchmarks/bench_render.py): 4× MSAA roughly
        doubles the cost of a 512² view of a 50k-face mesh, so protocol views are rendered
        without it by default (as TRELLIS's render_utils do) and previews with it.
        """
        import moderngl

        # llvmpipe reads LP_NUM_THREADS when the first context of the process starts
        self.threads = os.environ.get("LP_NUM_THREADS") or str(rasterizer_threads())
        chosen = "LP_NUM_THREADS" not in os.environ
        os.environ["LP_NUM_THREADS"] = self.threads
        try:
            self.ctx = moderngl.create_context(standalone=True, backend="egl")
        except Exception as exc:  # EGL / driver failures come as several exception types
            raise BackendError(
                f"offscreen OpenGL through EGL is unavailable ({type(exc).__name__}: {exc}); "
                "install Mesa's EGL (libegl1 libegl-mesa0 libgl1-mesa-dri) with scripts/setup.sh"
            ) from None
        finally:
            if chosen:  # only this context's choice: child processes and other GL users keep theirs
                del os.environ["LP_NUM_THREADS"]
        self.samples = min(samples, int(self.ctx.max_samples))
        self._programs: dict[tuple[bool, ...], object] = {}
        self._targets_by_kind: dict[tuple[int, bool, bool], list[tuple]] = {}
        self._camera_uniforms: dict[Camera, dict[str, object]] = {}
        self._encode = self.ctx.program(vertex_shader="#version 330\n" + ENCODE_VERTEX_SHADER,
                                        fragment_shader="#version 330\n" + ENCODE_FRAGMENT_SHADER)
        self._encode["u_linear"].value = 1
        self._encode_array = self.ctx.vertex_array(self._encode, [])
        log.debug("renderer: %s, %d samples", self.backend_name, self.samples)

    @classmethod
    def shared(cls) -> "Renderer":
        """The process-wide renderer, created on first use."""
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    @property
    def backend_name(self) -> str:
        info = self.ctx.info
        return f"OpenGL {info['GL_VERSION']} on {info['GL_RENDERER']} (EGL)"

    # ------------------------------------------------------------------ buffers
    def _targets(self, size: int, count: int, aux: bool, antialias: bool = False) -> list[tuple]:
        """``count`` target sets for square ``size`` images, one per view of a group, created on
        first use and kept. With ``antialias``: (multisampled framebuffer, resolved framebuffer);
        with ``aux``: (framebuffer, the same) with sRGB and normals/depth attachments; otherwise
        (shading framebuffer, its float32 linear-colour texture, sRGB framebuffer sharing the
        shading framebuffer's depth buffer)."""
        key = (size, aux, antialias)
        pool = self._targets_by_kind.setdefault(key, [])
        ctx = self.ctx
        while len(pool) < count:
            if antialias:
                draw = ctx.framebuffer(
                    color_attachments=[ctx.renderbuffer((size, size), 4, samples=self.samples)],
                    depth_attachment=ctx.depth_renderbuffer((size, size), samples=self.samples))
                pool.append((draw, ctx.framebuffer(color_attachments=[ctx.renderbuffer((size, size), 4)])))
                continue
            if aux:
                color = ctx.renderbuffer((size, size), components=4, dtype="f4")
                fbo = ctx.framebuffer(color_attachments=[ctx.renderbuffer((size, size), 4), color],
                                      depth_attachment=ctx.depth_renderbuffer((size, size)))
                pool.append((fbo, fbo))
                continue
            linear = ctx.texture((size, size), 4, dtype="f4")
            depth = ctx.depth_renderbuffer((size, size))
            shade = ctx.framebuffer(color_attachments=[linear], depth_attachment=depth)
            srgb = ctx.framebuffer(color_attachments=[ctx.renderbuffer((size, size), 4)], depth_attachment=depth)
            srgb.depth_mask = False  # the encoding pass only tests the shading pass's depth
            pool.append((shade, linear, srgb))
        return pool[:count]

    def program(self, textured: bool, normals: bool, aux: bool, linear: bool = False):
        """The shading program for textured / vertex-normal assets, with or without the
        normals/depth output, writing sRGB or (``linear``) the float linear colour, compiled
        on first use and kept."""
        key = (textured, normals, aux, linear)
        if key not in self._programs:
            names = ("TEXTURED", "VERTEX_NORMALS", "AUX", "LINEAR_OUT")
            header = "#version 330\n" + "".join(f"#define {n}\n" for n, on in zip(names, key) if on)
            self._programs[key] = self.ctx.program(vertex_shader=header + VERTEX_SHADER,
                                                   fragment_shader=header + FRAGMENT_SHADER)
        return self._programs[key]

    def _upload(self, asset: Asset) -> tuple[object, list, object]:
        """(vertex buffer, [buffers and texture to release], texture or None); the buffer holds
        13 float32 per vertex: position 3, normal 3, linear RGBA 4, uv 2, roughness 1."""
        data = np.zeros((asset.n_vertices, 13), np.float32)
        data[:, 0:3] = asset.vertices
        if asset.vertex_normals is not None:
            data[:, 3:6] = asset.vertex_normals
        data[:, 6:10] = asset.colors_or_default() if not asset.is_textured or asset.vertex_colors is not None else 1.0
        if asset.is_textured:
            data[:, 10:12] = asset.uv
        data[:, 12] = asset.vertex_roughness if asset.vertex_roughness is not None else asset.roughness
        vbo = self.ctx.buffer(data)
        ibo = self.ctx.buffer(np.ascontiguousarray(asset.faces, np.int32))
        texture = None
        if asset.is_textured:
            image = np.ascontiguousarray(np.flipud(asset.texture))
            if image.shape[2] == 3:
                image = np.concatenate([image, np.full(image.shape[:2] + (1,), 255, np.uint8)], axis=2)
            texture = self.ctx.texture((image.shape[1], image.shape[0]), 4, image.tobytes())
            texture.build_mipmaps()
        return (vbo, ibo), [vbo, ibo] + ([texture] if texture else []), texture

    def _vertex_array(self, program, buffers: tuple):
        """``program``'s view of the uploaded buffers: attributes it does not read are skipped."""
        vbo, ibo = buffers
        layout, names = [], []
        for name, fmt, _ in ATTRIBUTES:
            if name in program:
                layout.append(fmt)
                names.append(name)
            else:
                layout.append(f"{4 * int(fmt[0])}x")
        return self.ctx.vertex_array(program, [(vbo, " ".join(layout), *names)], index_buffer=ibo,
                                     index_element_size=4)

    # ------------------------------------------------------------------ drawing
    def _uniforms(self, camera: Camera) -> dict[str, object]:
        """Per-view uniform values: matrices as column-major float32 bytes, vectors as tuples;
        kept per camera (cameras are frozen), since computing them costs ~0.1 ms a view."""
        cached = self._camera_uniforms.get(camera)
        if cached is not None:
            return cached
        if len(self._camera_uniforms) >= CAMERA_CACHE:
            self._camera_uniforms.clear()
        self._camera_uniforms[camera] = self._compute_uniforms(camera)
        return self._camera_uniforms[camera]

    @staticmethod
    def _compute_uniforms(camera: Camera) -> dict[str, object]:
        view = camera.view_matrix()
        key, fill = _camera_lights(camera)
        return {"u_mvp": (camera.projection_matrix() @ view).T.astype(np.float32).tobytes(),
                "u_view": view.T.astype(np.float32).tobytes(), "u_eye": tuple(camera.position().tolist()),
                "u_key": tuple(key.tolist()), "u_fill": tuple(fill.tolist())}

    def _draw(self, vao, program, uniforms: dict, fbo, clear: tuple[float, ...], texture) -> None:
        """Clear ``fbo`` to ``clear`` (and depth 1), then draw ``vao`` with ``program``."""
        fbo.use()
        fbo.clear(*clear, depth=1.0)
        self._set_and_render(vao, program, uniforms, texture)

    @staticmethod
    def _set_and_render(vao, program, uniforms: dict, texture) -> None:
        for name, value in uniforms.items():
            if name in program:
                if isinstance(value, bytes):
                    program[name].write(value)
                else:
                    program[name].value = value
        if texture is not None:
            texture.use(0)
            program["u_texture"].value = 0
        vao.render()

    @staticmethod
    def _shade(target: tuple, vao, program, uniforms: dict, texture) -> None:
        """First pass into a (shading framebuffer, linear texture, sRGB framebuffer) target:
        clears depth but not the linear colour (only pixels this pass writes are read; a float
        clear costs ~3% of the frame), then draws."""
        shade = target[0]
        shade.color_mask = (False,) * 4
        shade.use()
        shade.clear(depth=1.0)
        shade.color_mask = (True,) * 4
        shade.use()
        Renderer._set_and_render(vao, program, uniforms, texture)

    def _encode_srgb(self, target: tuple, clear: tuple[float, ...]) -> None:
        """Second pass: clear the sRGB framebuffer's colour to ``clear`` and encode the linear
        colour of every pixel whose depth the first pass wrote (test GREATER against the
        far-plane triangle: stored depth < 1); depth is only read."""
        import moderngl

        _, linear, srgb = target
        srgb.use()
        srgb.clear(*clear)
        linear.use(1)
        self.ctx.depth_func = ">"
        self._encode_array.render(moderngl.TRIANGLES, vertices=3)
        self.ctx.depth_func = "<"

    def render(self, asset: Asset, cameras: list[Camera], background: str = "white",
               depth: bool = False, normals: bool = False, antialias: bool = False,
               cull_back: bool | None = None, back_normals: bool = False) -> RenderResult:
        """Render ``asset`` from every camera. All cameras must share one resolution.

        ``cull_back``: None draws every face, skipping back faces only where no pixel changes
        (:func:`cull_back_faces`); True always skips faces wound clockwise on screen, so an
        outward-wound mesh with holes shows the background through them instead of its inside;
        False never skips any. ``back_normals``: the normals of back faces (wound clockwise on
        screen) keep their own orientation, facing away from the camera, instead of being turned
        towards it; in an outward-wound mesh those are the inside of a hole, seen through it.

        The mesh is uploaded once, drawn with the program specialised to it (:meth:`program`).
        Views are drawn in groups, each view into its own kept target, and read back only after
        the whole group is queued: Mesa's llvmpipe bins the next view on the calling thread
        while its worker threads rasterize the previous ones (~1.4× faster than reading each
        view back at once, pixel-identical). For the plain colour, the first pass writes the
        linear colour of every view of the group, then the second encodes each as sRGB
        (text3d.render.glsl: the same pixels as encoding in the first pass, ~4% less CPU on a
        50k-face mesh). With normals/depth and no multisampling, colour and normals/depth come
        from one pass with two attachments (the two-pass encoding measured no gain there);
        with multisampling, a second pass without it writes the exact normals/depth.
        """
        import moderngl

        if background not in BACKGROUNDS:
            raise InputError(f"background {background!r}: use one of {', '.join(BACKGROUNDS)}")
        if not cameras:
            raise InputError("render: no cameras given")
        size = cameras[0].resolution
        if any(c.resolution != size for c in cameras):
            raise InputError("render: all cameras of one call must share one resolution")
        clear = BACKGROUNDS[background]
        color_clear = (*clear[:3], 0.0)
        transparent = clear[3] == 0.0
        want_aux = depth or normals
        msaa = antialias and self.samples > 1
        one_pass = want_aux and not msaa
        deferred = not (want_aux or msaa)
        count = len(cameras)
        # rows bottom-up, as OpenGL reads them; opaque backgrounds read RGB straight from the
        # driver (a swizzle there is ~10× cheaper than dropping alpha in numpy) and RGBA for α
        rgba = np.empty((count, size, size, 4), np.uint8)
        rgb = None if transparent else np.empty((count, size, size, 3), np.uint8)
        aux = np.empty((count, size, size, 4), np.float32) if want_aux else None  # (normal xyz, depth)
        group = max(1, min(GROUP_VIEWS, GROUP_PIXELS // (size * size)))
        textured, has_normals = asset.is_textured, asset.vertex_normals is not None
        color_program = self.program(textured, has_normals, one_pass, linear=deferred)
        aux_program = self.program(textured, has_normals, True) if want_aux else None
        if aux_program is not None:  # programs are shared between calls: set it either way
            aux_program["u_back_normals"].value = int(back_normals)
        buffers, owned, texture = self._upload(asset)
        arrays = {color_program: self._vertex_array(color_program, buffers)}
        if aux_program is not None and aux_program not in arrays:
            arrays[aux_program] = self._vertex_array(aux_program, buffers)
        self.ctx.enable(moderngl.DEPTH_TEST)
        if cull_back or (cull_back is None and cull_back_faces(asset, cameras)):
            self.ctx.enable(moderngl.CULL_FACE)  # counter-clockwise seen from outside = front
        else:
            self.ctx.disable(moderngl.CULL_FACE)
        self.ctx.depth_func = "<"
        try:
            for start in range(0, count, group):
                views = list(enumerate(cameras[start:start + group], start))
                aux_targets = self._targets(size, len(views), aux=True) if want_aux else []
                if deferred:
                    targets = self._targets(size, len(views), aux=False)
                    for j, (_, camera) in enumerate(views):
                        self._shade(targets[j], arrays[color_program], color_program, self._uniforms(camera),
                                    texture)
                    # all first passes, then all second passes (interleaving them measured the same)
                    for target in targets:
                        self._encode_srgb(target, color_clear)
                    sources = [target[2] for target in targets]
                else:
                    color_targets = self._targets(size, len(views), aux=False, antialias=True) if msaa else []
                    for j, (_, camera) in enumerate(views):
                        uniforms = self._uniforms(camera)
                        if one_pass:
                            self._draw(arrays[color_program], color_program, uniforms, aux_targets[j][0],
                                       color_clear, texture)
                            continue
                        draw, read = color_targets[j]
                        self._draw(arrays[color_program], color_program, uniforms, draw, color_clear, texture)
                        self.ctx.copy_framebuffer(read, draw)
                        if want_aux:
                            self._draw(arrays[aux_program], aux_program, uniforms, aux_targets[j][0],
                                       (0.0, 0.0, 0.0, 0.0), texture)
                    sources = [t[0] for t in aux_targets] if one_pass else [read for _, read in color_targets]
                for j, (i, _) in enumerate(views):
                    sources[j].read_into(rgba[i], components=4, dtype="f1", attachment=0)
                    if rgb is not None:
                        sources[j].read_into(rgb[i], components=3, dtype="f1", attachment=0, alignment=1)
                    if want_aux:
                        aux_targets[j][0].read_into(aux[i], components=4, dtype="f4", attachment=1)
        finally:
            self.ctx.disable(moderngl.CULL_FACE)  # other users of the context draw two-sided
            for vao in arrays.values():
                vao.release()
            for buffer in owned:
                buffer.release()
        rgba = rgba[:, ::-1]
        mask = rgba[..., 3] >= 128
        rgb = self._finish(rgba, transparent=True) if rgb is None else np.ascontiguousarray(rgb[:, ::-1])
        if aux is None:
            return RenderResult(rgb=rgb, mask=mask, cameras=list(cameras))
        aux = aux[:, ::-1]
        mask = aux[..., 3] > 0
        return RenderResult(
            rgb=rgb, mask=mask, cameras=list(cameras),
            depth=np.ascontiguousarray(aux[..., 3]) if depth else None,
            normals=aux[..., :3] * mask[..., None] if normals else None)

    @staticmethod
    def _finish(rgba: np.ndarray, transparent: bool) -> np.ndarray:
        """The pass clears to (background, α = 0) and shades with α = 1, so the resolved
        color is already blended with the background and α is the coverage. Opaque
        backgrounds keep RGB; a transparent one gets straight alpha, rgb = c / α.
        ``rgba``: uint8 (..., H, W, 4)."""
        if not transparent:
            return np.ascontiguousarray(rgba[..., :3])
        alpha = rgba[..., 3:4].astype(np.float32) / 255.0
        straight = np.where(alpha > 0, rgba[..., :3] / np.maximum(alpha, 1.0 / 255.0), 0.0)
        return np.concatenate([np.clip(np.rint(straight), 0, 255).astype(np.uint8), rgba[..., 3:4]], axis=-1)


def render(asset: Asset, cameras: list[Camera], background: str = "white",
           depth: bool = False, normals: bool = False, antialias: bool = False,
           cull_back: bool | None = None, back_normals: bool = False) -> RenderResult:
    """Render with the process-wide :class:`Renderer` (see :meth:`Renderer.render`)."""
    return Renderer.shared().render(asset, cameras, background=background, depth=depth, normals=normals,
                                    antialias=antialias, cull_back=cull_back, back_normals=back_normals)
