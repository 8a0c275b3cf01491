"""Assets: the colored triangle mesh, 3D Gaussian splats, voxel grids and their file formats."""

from text3d.assets.asset import Asset
from text3d.assets.io import load_asset, save_asset

__all__ = ["Asset", "load_asset", "save_asset"]
