"""Camera rays and projections in torch, in the conventions of :mod:`text3d.render.cameras`.

Pixel (row i, column j) has its center at (u, v) = (j + 0.5, i + 0.5); row 0 is the top of
the image, as in the renderer's output. In OpenCV camera axes (x right, y down, z forward)
its ray direction is ((u − cx)/f, (v − cy)/f, 1), mapped to the world by c2w's rotation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from text3d.errors import InputError
from text3d.render.cameras import Camera


def camera_rays(camera: Camera) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(origins (H·W, 3), unit directions (H·W, 3), z_per_t (H·W,)) in world units, row-major
    pixels. ``z_per_t`` converts a distance t along the ray to camera-space depth z."""
    size = camera.resolution
    k = camera.intrinsics()
    c2w = torch.as_tensor(camera.c2w(), dtype=torch.float32)
    coords = torch.arange(size, dtype=torch.float32) + 0.5
    v, u = torch.meshgrid(coords, coords, indexing="ij")  # (H, W): v rows, u columns
    d_cam = torch.stack([(u - k[0, 2]) / k[0, 0], (v - k[1, 2]) / k[1, 1], torch.ones_like(u)], dim=-1)
    d_cam = d_cam.reshape(-1, 3)
    norm = d_cam.norm(dim=-1, keepdim=True)
    directions = (d_cam / norm) @ c2w[:3, :3].T
    origins = c2w[:3, 3].expand_as(directions)
    return origins, directions, (1.0 / norm[:, 0])


def box_intersection(origins: torch.Tensor, directions: torch.Tensor, bound: float
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Slab test against [-bound, bound]³: (t_near (N,), t_far (N,), hit (N,) bool), t ≥ 0."""
    safe = torch.where(directions.abs() < 1e-9, torch.full_like(directions, 1e-9), directions)
    t0 = (-bound - origins) / safe
    t1 = (bound - origins) / safe
    t_near = torch.minimum(t0, t1).amax(dim=-1).clamp_min(0.0)
    t_far = torch.maximum(t0, t1).amin(dim=-1)
    return t_near, t_far, t_far > t_near


def project(points: torch.Tensor, camera: Camera) -> tuple[torch.Tensor, torch.Tensor]:
    """(pixel coordinates (N, 2) as (u, v), camera depth z (N,)) of world ``points`` (N, 3);
    differentiable in the points. u = f·x/z + cx, v = f·y/z + cy in OpenCV camera axes."""
    w2c = torch.as_tensor(np.linalg.inv(camera.c2w()), dtype=points.dtype)
    cam = points @ w2c[:3, :3].T + w2c[:3, 3]
    k = camera.intrinsics()
    z = cam[:, 2]
    safe = torch.where(z.abs() < 1e-6, torch.full_like(z, 1e-6), z)
    uv = torch.stack([k[0, 0] * cam[:, 0] / safe + k[0, 2], k[1, 1] * cam[:, 1] / safe + k[1, 2]], dim=-1)
    return uv, z


def cameras_per_item(cameras: Sequence[Camera] | Sequence[Sequence[Camera]], batch: int) -> list[list[Camera]]:
    """One camera list per triplane: ``cameras`` shared by all, or already one list each."""
    if not cameras:
        raise InputError("render: no cameras given")
    if isinstance(cameras[0], Camera):
        views = [list(cameras)] * batch
    else:
        views = [list(c) for c in cameras]
        if len(views) != batch or len({len(v) for v in views}) != 1:
            raise InputError(f"render: {len(views)} camera lists for {batch} triplanes "
                             "(give one list shared by all, or one list per triplane of equal length)")
    sizes = {c.resolution for v in views for c in v}
    if len(sizes) != 1:
        raise InputError(f"render: cameras of one call must share one resolution (got {sorted(sizes)})")
    return views
