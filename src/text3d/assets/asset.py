"""The :class:`Asset`: a triangle mesh with per-vertex colors or a UV texture.

Conventions (docs/architecture.md): z-up, right-handed, assets normalized to the cube [-0.5, 0.5]³.
Vertex colors are *linear* RGBA floats in [0, 1]; a texture is an sRGB uint8 image with
UVs whose origin is the bottom-left corner (OpenGL / trimesh convention). The material is
non-metallic PBR (metallic 0, roughness in [0, 1]) so that three.js and Blender show the
colors as authored; per-vertex roughness can carry the look of different materials.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from text3d.errors import InputError


@dataclass
class Asset:
    """A colored triangle mesh in text3d's z-up frame."""

    vertices: np.ndarray
    faces: np.ndarray
    vertex_colors: np.ndarray | None = None
    uv: np.ndarray | None = None
    texture: np.ndarray | None = None
    vertex_normals: np.ndarray | None = None
    vertex_roughness: np.ndarray | None = None
    roughness: float = 0.8
    metallic: float = 0.0
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        with np.errstate(over="ignore"):  # a coordinate past float32 becomes inf, which validation refuses
            self.vertices = np.ascontiguousarray(self.vertices, dtype=np.float32).reshape(-1, 3)
        self.faces = np.ascontiguousarray(self.faces, dtype=np.int32).reshape(-1, 3)
        if self.vertex_colors is not None:
            colors = np.asarray(self.vertex_colors, dtype=np.float32)
            if colors.ndim == 2 and colors.shape[1] == 3:
                colors = np.concatenate([colors, np.ones((len(colors), 1), np.float32)], axis=1)
            self.vertex_colors = np.ascontiguousarray(colors)
        if self.uv is not None:
            self.uv = np.ascontiguousarray(self.uv, dtype=np.float32).reshape(-1, 2)
        if self.vertex_normals is not None:
            self.vertex_normals = np.ascontiguousarray(self.vertex_normals, dtype=np.float32)
        if self.vertex_roughness is not None:
            self.vertex_roughness = np.ascontiguousarray(self.vertex_roughness, dtype=np.float32).reshape(-1)

    # ------------------------------------------------------------------ properties
    @property
    def n_vertices(self) -> int:
        return int(len(self.vertices))

    @property
    def n_faces(self) -> int:
        return int(len(self.faces))

    @property
    def is_textured(self) -> bool:
        return self.texture is not None and self.uv is not None

    def bounds(self) -> np.ndarray:
        """Axis-aligned bounds, shape (2, 3): [min, max]."""
        if self.n_vertices == 0:
            return np.zeros((2, 3), np.float32)
        return np.stack([self.vertices.min(axis=0), self.vertices.max(axis=0)])

    # ------------------------------------------------------------------ checks
    def validate(self, name: str = "asset") -> "Asset":
        """Raise a one-line :class:`InputError` naming ``name`` if the mesh is unusable."""
        if self.n_faces == 0:
            raise InputError(f"{name}: mesh has no faces")
        if self.n_vertices == 0:
            raise InputError(f"{name}: mesh has no vertices")
        bad = int((~np.isfinite(self.vertices)).any(axis=1).sum())
        if bad:
            raise InputError(f"{name}: {bad} vertices have NaN or infinite coordinates (or ones past float32's "
                             "±3.4e38, which become infinite)")
        if self.faces.min() < 0 or self.faces.max() >= self.n_vertices:
            raise InputError(f"{name}: face indices out of range [0, {self.n_vertices})")
        for label, array in (
            ("vertex_colors", self.vertex_colors),
            ("uv", self.uv),
            ("vertex_normals", self.vertex_normals),
            ("vertex_roughness", self.vertex_roughness),
        ):
            if array is not None and len(array) != self.n_vertices:
                raise InputError(f"{name}: {label} has {len(array)} rows for {self.n_vertices} vertices")
        extent = self.bounds()[1] - self.bounds()[0]
        if not np.any(extent > 0):
            raise InputError(f"{name}: mesh is degenerate (all vertices coincide)")
        return self

    # ------------------------------------------------------------------ transforms
    def copy(self) -> "Asset":
        """A deep copy."""
        def dup(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a.copy()

        return replace(
            self,
            vertices=self.vertices.copy(),
            faces=self.faces.copy(),
            vertex_colors=dup(self.vertex_colors),
            uv=dup(self.uv),
            texture=dup(self.texture),
            vertex_normals=dup(self.vertex_normals),
            vertex_roughness=dup(self.vertex_roughness),
            metadata=dict(self.metadata),
        )

    def normalized(self) -> "Asset":
        """Centered on its bounding-box center and scaled so the longest side is 1.

        v' = (v − (min + max)/2) / max(max − min); the result lies in [-0.5, 0.5]³.
        """
        lo, hi = self.bounds()
        scale = float(np.max(hi - lo))
        if not np.isfinite(scale) or scale <= 0:
            raise InputError("asset: cannot normalize a degenerate mesh")
        out = self.copy()
        out.vertices = ((self.vertices - (lo + hi) / 2.0) / scale).astype(np.float32)
        return out

    def colors_or_default(self, default: tuple[float, float, float] = (0.6, 0.6, 0.6)) -> np.ndarray:
        """Per-vertex linear RGBA; ``default`` (linear RGB) where the asset has none."""
        if self.vertex_colors is not None:
            return self.vertex_colors
        out = np.ones((self.n_vertices, 4), np.float32)
        out[:, :3] = default
        return out

    def to_trimesh(self) -> "trimesh.Trimesh":  # noqa: F821
        """A plain :class:`trimesh.Trimesh` with the same geometry (no visuals, no processing)."""
        import trimesh

        return trimesh.Trimesh(self.vertices, self.faces, process=False)

    @staticmethod
    def concatenate(assets: list["Asset"]) -> "Asset":
        """Merge vertex-colored assets into one (textures are not merged)."""
        if not assets:
            raise ValueError("concatenate needs at least one asset")
        vertices, faces, colors, rough = [], [], [], []
        offset = 0
        for part in assets:
            vertices.append(part.vertices)
            faces.append(part.faces + offset)
            colors.append(part.colors_or_default())
            r = part.vertex_roughness
            rough.append(np.full(part.n_vertices, part.roughness, np.float32) if r is None else r)
            offset += part.n_vertices
        return Asset(
            vertices=np.concatenate(vertices),
            faces=np.concatenate(faces),
            vertex_colors=np.concatenate(colors),
            vertex_roughness=np.concatenate(rough),
            roughness=float(np.mean([a.roughness for a in assets])),
        )
