"""What runs after the embedded generator decodes its latents: a mesher, then mesh post-processors.

Both are small callables named in the generator's ``config.json``, in the manner of
Hunyuan3D-2's post-processors (``FloaterRemover()(mesh) -> mesh``):

* the mesher turns each decoded :class:`~text3d.assets.voxels.VoxelGrid` into a mesh
  (``{"name": "marching_cubes", "args": {"level": 0.5}}``); every candidate is meshed, since the
  selector judges meshes;
* post-processors map the kept :class:`~text3d.assets.asset.Asset` to the delivered one, in
  the listed order (``[{"name": "crease_normals", "args": {"degrees": 70.0}}, …]``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from text3d.assets.asset import Asset
from text3d.assets.normals import crease_normals
from text3d.assets.voxels import VoxelGrid
from text3d.errors import InputError
from text3d.registry import Registry


@dataclass(frozen=True)
class Meshed:
    """One candidate's mesh, the voxels above the level it was cut at, and a warning when the grid
    had to be changed to give a mesh at all."""

    asset: Asset
    occupied_voxels: int
    warning: str | None = None


class Mesher(Protocol):
    def __call__(self, grid: VoxelGrid) -> Meshed: ...


class PostProcessor(Protocol):
    def __call__(self, asset: Asset) -> Asset: ...


meshers: Registry[Mesher] = Registry("mesher", ())
"""Mesher name → class (grid → :class:`Meshed`)."""
postprocessors: Registry[PostProcessor] = Registry("postprocessor", ())
"""Post-processor name → class (asset → asset)."""


@meshers.register("marching_cubes")
@dataclass(frozen=True)
class MarchingCubes:
    """Marching cubes at occupancy ``level`` (:meth:`VoxelGrid.to_asset`). A grid whose maximum is
    at or below ``level`` is first divided by that maximum and multiplied by ``rescue_peak``
    (> ``level``), so that its densest region becomes the mesh instead of nothing."""

    level: float = 0.5
    rescue_peak: float = 0.75

    def __post_init__(self) -> None:
        """Refuse (one line) a config value marching cubes cannot use: 0 < level < rescue_peak ≤ 1."""
        values = (self.level, self.rescue_peak)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values) \
                or not 0.0 < self.level < self.rescue_peak <= 1.0:  # NaN fails the comparison
            raise InputError(f"generator config: mesher 'marching_cubes': level and rescue_peak must be numbers with "
                             f"0 < level < rescue_peak <= 1, not {self.level!r} and {self.rescue_peak!r}")

    def __call__(self, grid: VoxelGrid) -> Meshed:
        warning = None
        if float(grid.occupancy.max()) <= self.level:
            grid = replace(grid, occupancy=grid.occupancy / max(float(grid.occupancy.max()), 1e-6) * self.rescue_peak)
            warning = f"the sampled grid is empty at level {self.level}; using its densest region"
        return Meshed(grid.to_asset(level=self.level), int((grid.occupancy > self.level).sum()), warning)


@postprocessors.register("crease_normals")
@dataclass(frozen=True)
class CreaseNormals:
    """Smooth normals that split where faces meet at more than ``degrees``
    (:func:`~text3d.assets.normals.crease_normals`); vertex colors follow the split vertices."""

    degrees: float = 70.0

    def __call__(self, asset: Asset) -> Asset:
        vertices, faces, normals, source = crease_normals(asset.vertices, asset.faces, crease_degrees=self.degrees)
        out = asset.copy()
        # assigned, not passed to the constructor: positions stay float64 (N, 3), so a following
        # Normalize computes in double precision
        out.vertices, out.faces, out.vertex_normals = vertices, faces, normals
        for name in ("vertex_colors", "vertex_roughness", "uv"):  # per-vertex arrays follow the split
            values = getattr(out, name)
            if values is not None:
                setattr(out, name, values[source])
        return out


@postprocessors.register("material")
@dataclass(frozen=True)
class Material:
    """Set the asset's PBR ``roughness`` (0 mirror-like … 1 matte)."""

    roughness: float = 0.6

    def __call__(self, asset: Asset) -> Asset:
        return replace(asset, roughness=self.roughness)


@postprocessors.register("normalize")
@dataclass(frozen=True)
class Normalize:
    """Center and scale the asset into [-0.5, 0.5]³ (:meth:`Asset.normalized`)."""

    def __call__(self, asset: Asset) -> Asset:
        return asset.normalized()
