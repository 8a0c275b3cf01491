"""A toyworld object: named parts → a colored :class:`Asset` and an exact voxel grid."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from text3d.assets.asset import Asset
from text3d.assets.color import hex_to_srgb, srgb_to_linear
from text3d.assets.normals import crease_normals
from text3d.assets.voxels import VoxelGrid
from text3d.data.toyworld.shapes import Part
from text3d.data.toyworld.vocabulary import MATERIALS, PALETTE

CREASE_DEGREES = 35.0
"""Edges sharper than this stay sharp in the vertex normals; smoother ones are smoothed."""


def part_color(color: str, material: str) -> np.ndarray:
    """Linear RGB of a palette color shown in a material.

    c = brightness · (s · c_lin + (1 − s) · Y), Y the luminance of c_lin (Rec. 709 weights).
    """
    lin = srgb_to_linear(hex_to_srgb(PALETTE[color]))
    info = MATERIALS[material]
    luminance = float(lin @ np.array([0.2126, 0.7152, 0.0722]))
    mixed = info.saturation * lin + (1.0 - info.saturation) * luminance
    return np.clip(mixed * info.brightness, 0.0, 1.0).astype(np.float32)


@dataclass
class ToyObject:
    """A category instance: its parts (drawn back to front: later parts color overlaps)."""

    category: str
    parts: list[Part]
    attributes: dict[str, Any] = field(default_factory=dict)

    # -------------------------------------------------------------- frame
    def bounds(self) -> np.ndarray:
        """(2, 3) bounds of all part meshes in the object frame."""
        pts = np.concatenate([p.world_mesh()[0] for p in self.parts])
        return np.stack([pts.min(0), pts.max(0)])

    def normalization(self) -> tuple[np.ndarray, float]:
        """(center, scale) with v_unit = (v − center) / scale inside [-0.5, 0.5]³."""
        lo, hi = self.bounds()
        return (lo + hi) / 2.0, float(np.max(hi - lo))

    # -------------------------------------------------------------- asset
    def to_asset(self) -> Asset:
        """Merged, colored mesh normalized to the unit cube, with crease-aware normals."""
        center, scale = self.normalization()
        verts, faces, groups = [], [], []
        offset = 0
        for index, part in enumerate(self.parts):
            v, f = part.world_mesh()
            verts.append((v - center) / scale)
            faces.append(f + offset)
            groups.append(np.full(len(v), index))
            offset += len(v)
        group = np.concatenate(groups)
        v, f, n, source = crease_normals(np.concatenate(verts), np.concatenate(faces), CREASE_DEGREES,
                                         vertex_groups=group)
        part_of_vertex = group[source]
        rgb = np.stack([np.append(part_color(p.color, p.material), 1.0) for p in self.parts])
        rough = np.array([MATERIALS[p.material].roughness for p in self.parts], np.float32)
        return Asset(vertices=v, faces=f, vertex_normals=n, vertex_colors=rgb[part_of_vertex],
                     vertex_roughness=rough[part_of_vertex], roughness=0.6, metadata={"category": self.category})

    # -------------------------------------------------------------- voxels
    def voxel_grid(self, resolution: int = 32, supersample: int = 2) -> VoxelGrid:
        """Exact occupancy (fraction of ``supersample``³ sub-samples inside) and colors on the
        unit-cube grid of :class:`~text3d.assets.voxels.VoxelGrid`."""
        center, scale = self.normalization()
        r, s = resolution, supersample
        n = r * s
        axis = -0.5 + (np.arange(n) + 0.5) / n  # sample coordinates in the unit cube, per axis
        occ = np.zeros((n, n, n), dtype=np.float32)
        col = np.zeros((n, n, n, 3), dtype=np.float32)
        for part in self.parts:
            verts, _ = part.world_mesh()
            pad = 0.02 * float(np.max(verts.max(0) - verts.min(0))) + 1e-6  # round solids bulge past their facets
            lo = ((verts.min(0) - pad) - center) / scale
            hi = ((verts.max(0) + pad) - center) / scale
            start = np.searchsorted(axis, lo, side="left")  # the part's bounding box as index ranges
            stop = np.searchsorted(axis, hi, side="right")
            if np.any(stop <= start):
                continue
            box = np.meshgrid(axis[start[0]:stop[0]], axis[start[1]:stop[1]], axis[start[2]:stop[2]], indexing="ij")
            points = np.stack(box, axis=-1).reshape(-1, 3) * scale + center
            inside = part.contains(points).reshape(box[0].shape)
            region = (slice(start[0], stop[0]), slice(start[1], stop[1]), slice(start[2], stop[2]))
            occ[region][inside] = 1.0
            col[region][inside] = part_color(part.color, part.material)
        occ = occ.reshape(r, s, r, s, r, s)
        col = col.reshape(r, s, r, s, r, s, 3)
        occupancy = occ.mean(axis=(1, 3, 5))
        weight = occ[..., None]
        color_sum = (col * weight).sum(axis=(1, 3, 5))
        colors = color_sum / np.maximum(occupancy[..., None] * s**3, 1e-6)
        return VoxelGrid(occupancy, colors)

    # -------------------------------------------------------------- colors
    def color_areas(self) -> dict[str, float]:
        """Surface area per palette color (object frame units²)."""
        areas: dict[str, float] = {}
        for part in self.parts:
            v, f = part.world_mesh()
            tri = v[f]
            area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1).sum()
            areas[part.color] = areas.get(part.color, 0.0) + float(area)
        return areas

    def dominant_color(self) -> str:
        """The palette color covering the largest surface area."""
        areas = self.color_areas()
        return max(areas, key=lambda c: areas[c])
