"""Voxel grids (occupancy + linear RGB) over the cube [-0.5, 0.5]³ and their meshes.

Voxel (i, j, k) of an R³ grid covers x ∈ [-0.5 + i/R, -0.5 + (i+1)/R] (likewise y, z), so
its center is -0.5 + (i + 0.5)/R. Array axes are (x, y, z).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from text3d.assets.asset import Asset


@dataclass
class VoxelGrid:
    """Occupancy in [0, 1], shape (R, R, R), and linear RGB colors, shape (R, R, R, 3)."""

    occupancy: np.ndarray
    colors: np.ndarray

    def __post_init__(self) -> None:
        self.occupancy = np.asarray(self.occupancy, dtype=np.float32)
        self.colors = np.asarray(self.colors, dtype=np.float32)
        r = self.occupancy.shape[0]
        if self.occupancy.shape != (r, r, r) or self.colors.shape != (r, r, r, 3):
            raise ValueError(f"voxel grid shapes {self.occupancy.shape} / {self.colors.shape} "
                             "are not (R,R,R) / (R,R,R,3)")

    @property
    def resolution(self) -> int:
        return int(self.occupancy.shape[0])

    def centers(self) -> np.ndarray:
        """World coordinates of voxel centers, shape (R, R, R, 3)."""
        r = self.resolution
        axis = -0.5 + (np.arange(r, dtype=np.float32) + 0.5) / r
        return np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1)

    def to_asset(self, level: float = 0.5, smooth_sigma: float = 0.0) -> Asset:
        """Marching cubes on the occupancy at ``level``; colors by normalized convolution.

        The vertex color is Σ w·o·c / Σ w·o over the trilinear neighbours (o = occupancy),
        so empty voxels do not darken the surface. Raises ``ValueError`` if the grid has no
        surface at ``level``.
        """
        from skimage.measure import marching_cubes

        r = self.resolution
        occ = self.occupancy
        if smooth_sigma > 0:
            occ = ndimage.gaussian_filter(occ, smooth_sigma)
        padded = np.pad(occ, 1, mode="constant", constant_values=0.0)
        if not (padded.max() > level > padded.min()):
            raise ValueError(f"voxel grid has no surface at level {level}")
        verts, faces, _normals, _ = marching_cubes(padded, level=level, gradient_direction="descent")
        index_coords = verts - 1.0  # undo padding: index space of the original grid
        world = -0.5 + (index_coords + 0.5) / r
        weighted = self.colors * self.occupancy[..., None]
        coords = index_coords.T
        num = np.stack([ndimage.map_coordinates(weighted[..., c], coords, order=1, mode="nearest")
                        for c in range(3)], axis=1)
        den = ndimage.map_coordinates(self.occupancy, coords, order=1, mode="nearest")[:, None]
        fallback = np.stack([ndimage.map_coordinates(self.colors[..., c], coords, order=0, mode="nearest")
                             for c in range(3)], axis=1)
        rgb = np.where(den > 1e-4, num / np.maximum(den, 1e-4), fallback)
        colors = np.concatenate([np.clip(rgb, 0, 1), np.ones((len(rgb), 1))], axis=1)
        return Asset(vertices=world, faces=faces[:, ::-1].copy() if _flip_needed(world, faces) else faces,
                     vertex_colors=colors)


def _flip_needed(vertices: np.ndarray, faces: np.ndarray) -> bool:
    """True when the faces wind inward (signed volume < 0), so they must be reversed."""
    tri = vertices[faces]
    signed = np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum() / 6.0
    return bool(signed < 0)
