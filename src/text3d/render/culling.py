"""Back-face culling where it changes no pixel: the renderer's test of a mesh and its cameras."""

from __future__ import annotations

import numpy as np

from text3d.assets.asset import Asset
from text3d.assets.topology import is_closed_outward
from text3d.render.cameras import Camera

CULL_MIN_FACE_VIEWS = 50_000
"""Faces × views below which back faces are drawn anyway: for small meshes the topology check
(and scipy.sparse's import, ≈ 60 ms once per process) costs more than culling saves
(a 3,280-face asset in 4 views: ≈ 1 ms of raster work). The pixels are the same either way."""


def cull_back_faces(asset: Asset, cameras: list[Camera]) -> bool:
    """Whether back faces can be skipped without changing a pixel: the mesh bounds solids with
    outward faces (text3d.assets.topology) and every camera is outside its bounding box, so the
    nearest surface along any ray faces the camera. Then half the triangles need no raster
    work (4 views at 512² of a 50k-face mesh: ≈ 1.5× faster, benchmarks/bench_render.py);
    only exact depth ties may resolve differently (none in 12 views each of the 63 of 90
    development-range toyworld objects that qualify; a few silhouette samples under MSAA)."""
    if asset.n_faces * len(cameras) < CULL_MIN_FACE_VIEWS:
        return False
    low, high = asset.bounds()
    for camera in cameras:
        eye = camera.position()
        if np.all(eye >= low) and np.all(eye <= high):
            return False
    return is_closed_outward(asset.vertices, asset.faces)
