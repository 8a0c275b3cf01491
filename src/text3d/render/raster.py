"""Visibility rasterization: per-pixel triangle id, barycentrics and depth (OpenGL through EGL).

This is the "rasterize" half of nvdiffrast's rasterize / interpolate split (Laine et al.,
2020): the GPU (or Mesa's llvmpipe) resolves visibility, and attributes are interpolated
afterwards, e.g. in torch so that gradients reach them. It runs on the same context as
:class:`text3d.render.renderer.Renderer` with the same view and projection matrices, so the
covered pixels are exactly those of the renderer's (non-antialiased) mask.

The mesh is drawn un-indexed (three vertices per triangle); the vertex shader gives corner
``gl_VertexID % 3`` the unit barycentric, which the rasterizer interpolates with perspective
correction, and the fragment shader writes ``gl_PrimitiveID`` (= the face index).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from text3d.errors import InputError
from text3d.render.cameras import Camera
from text3d.render.renderer import Renderer

_VERTEX_SHADER = """
#version 330
uniform mat4 u_mvp;
uniform mat4 u_view;
in vec3 in_pos;
out vec3 v_bary;
out float v_depth;
void main() {
    vec4 p = vec4(in_pos, 1.0);
    gl_Position = u_mvp * p;
    int k = gl_VertexID % 3;
    v_bary = vec3(k == 0 ? 1.0 : 0.0, k == 1 ? 1.0 : 0.0, k == 2 ? 1.0 : 0.0);
    v_depth = -(u_view * p).z;
}
"""

_FRAGMENT_SHADER = """
#version 330
in vec3 v_bary;
in float v_depth;
layout(location = 0) out vec4 out_bary_id;
layout(location = 1) out vec4 out_depth;
void main() {
    out_bary_id = vec4(v_bary, float(gl_PrimitiveID + 1));
    out_depth = vec4(v_depth, 0.0, 0.0, 0.0);
}
"""

MAX_FACES = 1 << 24
"""Face ids travel as float32 (exact integers up to 2²⁴)."""


@dataclass
class RasterResult:
    """Visibility of one mesh from several cameras (index i ↔ cameras[i]), rows top-down.

    ``triangle_id``: int32 (N, H, W), the face index, −1 on background; ``barycentrics``:
    float32 (N, H, W, 3), perspective-correct weights of the face's corners (sum 1), 0 on
    background; ``depth``: float32 (N, H, W), camera-space z in world units, 0 on background.
    """

    triangle_id: np.ndarray
    barycentrics: np.ndarray
    depth: np.ndarray
    cameras: list[Camera]

    @property
    def mask(self) -> np.ndarray:
        """bool (N, H, W): pixels covered by a face."""
        return self.triangle_id >= 0


class Rasterizer:
    """Id / barycentric rasterizer sharing the process-wide renderer's OpenGL context."""

    _instance: "Rasterizer | None" = None
    _lock = threading.Lock()

    def __init__(self, renderer: Renderer | None = None) -> None:
        self.renderer = renderer or Renderer.shared()
        self.ctx = self.renderer.ctx
        self.program = self.ctx.program(vertex_shader=_VERTEX_SHADER, fragment_shader=_FRAGMENT_SHADER)
        self._targets: dict[int, object] = {}

    @classmethod
    def shared(cls) -> "Rasterizer":
        """The process-wide rasterizer, created on first use."""
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def _target(self, size: int):
        if size not in self._targets:
            ctx = self.ctx
            self._targets[size] = ctx.framebuffer(
                color_attachments=[ctx.renderbuffer((size, size), 4, dtype="f4"),
                                   ctx.renderbuffer((size, size), 4, dtype="f4")],
                depth_attachment=ctx.depth_renderbuffer((size, size)))
        return self._targets[size]

    def rasterize(self, vertices: np.ndarray, faces: np.ndarray, cameras: list[Camera]) -> RasterResult:
        """Triangle ids, barycentrics and depth of the mesh (``vertices`` (V, 3) world
        units, ``faces`` (F, 3) indices) from every camera; cameras share one resolution."""
        import moderngl

        vertices = np.asarray(vertices, np.float32).reshape(-1, 3)
        faces = np.asarray(faces, np.int64).reshape(-1, 3)
        if not cameras:
            raise InputError("rasterize: no cameras given")
        size = cameras[0].resolution
        if any(c.resolution != size for c in cameras):
            raise InputError("rasterize: all cameras of one call must share one resolution")
        if len(faces) >= MAX_FACES:
            raise InputError(f"rasterize: {len(faces)} faces; at most {MAX_FACES - 1} are supported")
        if len(faces) and (faces.min() < 0 or faces.max() >= len(vertices)):
            raise InputError(f"rasterize: face indices out of range [0, {len(vertices)})")
        if not np.isfinite(vertices).all():
            raise InputError("rasterize: vertices have NaN or infinite coordinates")
        count = len(cameras)
        out = np.zeros((count, size, size, 4), np.float32)  # (b0, b1, b2, id + 1), rows bottom-up
        depth = np.zeros((count, size, size, 4), np.float32)
        if len(faces):
            corners = np.ascontiguousarray(vertices[faces.reshape(-1)])  # (3F, 3) un-indexed
            vbo = self.ctx.buffer(corners.tobytes())
            vao = self.ctx.vertex_array(self.program, [(vbo, "3f", "in_pos")])
            fbo = self._target(size)
            try:
                for i, camera in enumerate(cameras):
                    fbo.use()
                    fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
                    self.ctx.enable(moderngl.DEPTH_TEST)
                    self.ctx.disable(moderngl.CULL_FACE)
                    view = camera.view_matrix()
                    self.program["u_mvp"].write((camera.projection_matrix() @ view).T.astype(np.float32).tobytes())
                    self.program["u_view"].write(view.T.astype(np.float32).tobytes())
                    vao.render(moderngl.TRIANGLES)
                    fbo.read_into(out[i], components=4, dtype="f4", attachment=0)
                    fbo.read_into(depth[i], components=4, dtype="f4", attachment=1)
            finally:
                vao.release()
                vbo.release()
        out, depth = out[:, ::-1], depth[:, ::-1]
        ids = np.rint(out[..., 3]).astype(np.int32) - 1
        covered = (ids >= 0)[..., None]
        return RasterResult(triangle_id=np.ascontiguousarray(ids),
                            barycentrics=np.ascontiguousarray(out[..., :3] * covered),
                            depth=np.ascontiguousarray(depth[..., 0] * covered[..., 0]),
                            cameras=list(cameras))


def rasterize(vertices: np.ndarray, faces: np.ndarray, cameras: list[Camera]) -> RasterResult:
    """Rasterize with the process-wide :class:`Rasterizer` (see :meth:`Rasterizer.rasterize`)."""
    return Rasterizer.shared().rasterize(vertices, faces, cameras)
