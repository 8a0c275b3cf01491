"""Triplane 3D representation (TriplaneTurbo (Ma et al., 2025)): SDF + color planes, NeuS volume
rendering, marching-cubes extraction to an :class:`~text3d.assets.Asset`, differentiable mesh
rendering over text3d's OpenGL rasterizer, and the renderer's lighting in torch."""

from text3d.triplane.field import TriplaneConfig, TriplaneField
from text3d.triplane.marching import MarchedMesh, extract_asset, march, marching_cubes, narrow_band_sdf_grid
from text3d.triplane.mesh_render import MeshRender, interpolate, render_mesh
from text3d.triplane.shading import shade
from text3d.triplane.volume import VolumeRender, render_volume

__all__ = ["MarchedMesh", "MeshRender", "TriplaneConfig", "TriplaneField", "VolumeRender", "extract_asset",
           "interpolate", "march", "marching_cubes", "narrow_band_sdf_grid", "render_mesh", "render_volume", "shade"]
