"""Renders of the student's triplanes in the embedded teacher's view space, and the random views.

A teacher view (:mod:`text3d.train.mvdiffusion_data`) has 7 channels in [−1, 1]: sRGB on white
(2·rgb − 1), the world-space normal (0 on the background, coverage-weighted at silhouettes) and
depth clip(z − 2, −1, 1) (+1 on the background). Volume and mesh renders
(:func:`~text3d.triplane.volume.render_volume`, :func:`~text3d.triplane.mesh_render.render_mesh`)
are shaded with the renderer's lighting (:func:`~text3d.triplane.shading.shade`) and mapped to
that space, differentiably: with coverage a, channel = a·surface value + (1 − a)·background value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from text3d.errors import InputError
from text3d.render.cameras import Camera
from text3d.triplane.field import TriplaneField
from text3d.triplane.mesh_render import render_mesh
from text3d.triplane.shading import shade
from text3d.triplane.volume import render_volume

CAMERA_DISTANCE = 2.0
"""The teacher's cameras sit 2 world units from the origin; its depth channel is z − 2."""


def random_views(rng: np.random.Generator, batch: int, views: int, resolution: int, pitch_low: float = 10.0,
                 pitch_high: float = 40.0) -> list[list[Camera]]:
    """One ring of ``views`` cameras 360°/V apart per item, from a random start yaw and one random
    pitch in [``pitch_low``, ``pitch_high``] (the teacher's training views)."""
    rings = []
    for _ in range(batch):
        start, pitch = float(rng.uniform(0, 360)), float(rng.uniform(pitch_low, pitch_high))
        rings.append([Camera(yaw=start + 360.0 / views * k, pitch=pitch, radius=CAMERA_DISTANCE,
                             resolution=resolution) for k in range(views)])
    return rings


def c2w_tensor(rings: Sequence[Sequence[Camera]]) -> torch.Tensor:
    """Camera-to-world matrices (B, V, 4, 4) of the rings."""
    return torch.from_numpy(np.stack([[c.c2w() for c in ring] for ring in rings])).float()


def to_teacher_space(srgb: torch.Tensor, normals: torch.Tensor, depth: torch.Tensor,
                     opacity: torch.Tensor) -> torch.Tensor:
    """Shaded sRGB over white (V, H, W, 3), unit-or-weighted normals (V, H, W, 3), camera depth
    (V, H, W) and coverage (V, H, W) of one item → its views (V, 7, H, W) in [−1, 1]."""
    d = opacity * (depth - CAMERA_DISTANCE).clamp(-1.0, 1.0) + (1.0 - opacity)
    views = torch.cat([2.0 * srgb - 1.0, normals, d[..., None]], dim=-1)
    return views.permute(0, 3, 1, 2)


def random_point_eikonal(field: TriplaneField, planes: torch.Tensor, points: int,
                         generator: torch.Generator | None = None) -> torch.Tensor:
    """Mean (‖∇sdf‖ − 1)² at ``points`` uniform points of [-bound, bound]³ per triplane (B, 3, C, R, R):
    the eikonal term where no volume samples carry one (IGR, Gropp et al., 2020, samples space so)."""
    bound = field.config.bound
    at = (2.0 * torch.rand(planes.shape[0], points, 3, generator=generator) - 1.0) * bound  # (B, P, 3)
    return ((field.sdf_gradient(planes, at).norm(dim=-1) - 1.0) ** 2).mean()


def render_teacher_views(field: TriplaneField, planes: torch.Tensor, rings: Sequence[Sequence[Camera]], kind: str,
                         samples: int = 24, inv_s: float = 64.0, mesh_resolution: int = 32,
                         generator: torch.Generator | None = None,
                         eikonal_points: int = 0) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(views (B, V, 7, S, S), eikonal term or None) of triplanes ``planes`` (B, 3, C, R, R) seen from
    one camera ring per item, by ``kind`` = "volume" or "mesh" rendering. Volume rendering's eikonal
    term is on its samples; mesh rendering has one only with ``eikonal_points`` > 0 (random points)."""
    if kind == "volume":
        out = render_volume(field, planes, rings, samples=samples, inv_s=inv_s, perturb=True, generator=generator,
                            background=0.0)
        normals, eikonal = out.normals, out.eikonal
    elif kind == "mesh":
        out = render_mesh(field, planes, rings, resolution=mesh_resolution, background=0.0)
        normals = out.normals * out.opacity[..., None]
        eikonal = random_point_eikonal(field, planes, eikonal_points, generator) if eikonal_points > 0 else None
    else:
        raise InputError(f"renderer {kind!r}: use volume or mesh")
    items = []
    for b, ring in enumerate(rings):
        srgb = shade(out.rgb[b], normals[b], out.opacity[b], ring)
        items.append(to_teacher_space(srgb, normals[b], out.depth[b], out.opacity[b]))
    return torch.stack(items), eikonal
