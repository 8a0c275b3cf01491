"""Differentiable volume rendering of a triplane SDF field, NeuS-style (Wang et al., 2021).

Rays of a :class:`text3d.render.cameras.Camera` (see :mod:`text3d.triplane.rays`) are clipped
to the field's box [-bound, bound]³ and sampled at S + 1 stratified distances t₀ < … < t_S
(one per equal bin; jittered inside the bin when ``perturb``, else the bin centers). With
Φ_s(x) = sigmoid(s·x) (s = ``inv_s``, 1/world units) each interval gets NeuS's discrete opacity

    α_k = clamp((Φ_s(sdf_k) − Φ_s(sdf_{k+1})) / Φ_s(sdf_k), 0, 1),

and the usual front-to-back compositing w_k = α_k · Π_{j<k} (1 − α_j). Color, normal and
depth of an interval are the means of its two ends. A ray that enters a solid ends with
Π (1 − α) = Φ_s(sdf_S)/Φ_s(sdf_0) ≈ 0, i.e. opacity 1. An interval's normal is the normalized
SDF gradient at its midpoint, by central differences (first-order autograd only: double
backward through ``grid_sample`` costs ~30× more on a CPU), computed only for intervals of
weight > 1e-3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from text3d.errors import InputError
from text3d.render.cameras import Camera
from text3d.triplane.field import TriplaneField
from text3d.triplane.rays import box_intersection, camera_rays, cameras_per_item


@dataclass
class VolumeRender:
    """Views of B fields from V cameras each, rows top-down.

    ``rgb``: (B, V, H, W, 3) linear albedo composited over the background; ``opacity``:
    (B, V, H, W) in [0, 1]; ``depth``: (B, V, H, W) camera-space z (world units) of the
    expected surface, 0 where opacity < 1e-4; ``normals``: (B, V, H, W, 3) opacity-weighted
    world normals (unit on the surface, 0 on background) or None; ``eikonal``: the mean of
    (‖∇sdf‖ − 1)² over all samples (a scalar) or None.
    """

    rgb: torch.Tensor
    opacity: torch.Tensor
    depth: torch.Tensor
    normals: torch.Tensor | None = None
    eikonal: torch.Tensor | None = None


SKIP_BELOW = 1e-5
"""With gradients, intervals of opacity or transmittance below this are left out of the graph."""
NORMAL_MIN_WEIGHT = 1e-3
"""Intervals with a smaller compositing weight get no normal (their share of the normal is ≤ this)."""


def neus_alpha(sdf: torch.Tensor, inv_s: float) -> torch.Tensor:
    """NeuS interval opacities (..., S) from SDF values at S + 1 ordered samples (..., S + 1)."""
    cdf = torch.sigmoid(sdf * inv_s)
    return ((cdf[..., :-1] - cdf[..., 1:]) / (cdf[..., :-1] + 1e-6)).clamp(0.0, 1.0)


def transmittance(alpha: torch.Tensor) -> torch.Tensor:
    """T_k = Π_{j<k}(1 − α_j) for alpha (..., S)."""
    return torch.cumprod(torch.cat([torch.ones_like(alpha[..., :1]), 1.0 - alpha[..., :-1] + 1e-7], -1), -1)


def composite_weights(alpha: torch.Tensor) -> torch.Tensor:
    """w_k = α_k Π_{j<k}(1 − α_j) for alpha (..., S)."""
    return alpha * transmittance(alpha)


def render_volume(field: TriplaneField, planes: torch.Tensor,
                  cameras: Sequence[Camera] | Sequence[Sequence[Camera]], *, samples: int = 64,
                  inv_s: float = 64.0, background: float | Sequence[float] = 1.0, normals: bool = True,
                  perturb: bool = False, generator: torch.Generator | None = None,
                  max_points: int = 1 << 17, checkpoint: bool = False, skip: bool = True) -> VolumeRender:
    """Render the fields ``planes`` (B, 3, C, R, R) from ``cameras`` (one list shared by all
    triplanes, or one list per triplane). Rays that miss the box cost nothing; the others are
    evaluated ``max_points`` samples at a time, which bounds peak memory without gradients. With
    ``checkpoint`` and autograd recording, each chunk's activations are recomputed in the backward
    pass instead of kept (activation checkpointing, Chen et al., 2016). With ``skip`` and
    autograd recording, only intervals of opacity and transmittance above 1e-5 enter the graph
    (a first pass without gradients finds them). Measured for 4 views at 64², default config,
    fwd+bwd: +0.85 GB with neither, +0.36 GB with ``skip``, +0.22 GB with both."""
    field.check_planes(planes)
    if samples < 2:
        raise InputError(f"render_volume samples {samples}: need at least 2")
    if not inv_s > 0:
        raise InputError(f"render_volume inv_s {inv_s}: the NeuS sharpness must be positive (1/world units)")
    views = cameras_per_item(cameras, planes.shape[0])
    size = views[0][0].resolution
    bg = torch.as_tensor(background, dtype=torch.float32).expand(3)
    rows_per_chunk = max(1, max_points // (samples + 1))
    checkpoint = checkpoint and torch.is_grad_enabled()
    out_rgb, out_opacity, out_depth, out_normals, eik_sum, eik_count = [], [], [], [], 0.0, 0
    for b, cams in enumerate(views):
        rays = [camera_rays(c) for c in cams]
        origins = torch.cat([r[0] for r in rays])
        directions = torch.cat([r[1] for r in rays])
        z_per_t = torch.cat([r[2] for r in rays])
        t_near, t_far, hit = box_intersection(origins, directions, field.config.bound)
        index = hit.nonzero()[:, 0]
        parts = []
        for start in range(0, len(index), rows_per_chunk):
            rows = index[start:start + rows_per_chunk]
            t = _sample_distances(t_near[rows], t_far[rows], samples, perturb, generator)
            args = (field, planes[b:b + 1], origins[rows], directions[rows], z_per_t[rows], t, inv_s, normals, skip)
            parts.append(torch.utils.checkpoint.checkpoint(_composite, *args, use_reentrant=False) if checkpoint
                         else _composite(*args))
        n_rays = len(origins)
        channels = {"rgb": 3, "opacity": 1, "depth": 1, "normals": 3}
        full = {}
        for key, width in channels.items():
            if key == "normals" and not normals:
                continue
            values = torch.cat([p[key] for p in parts]) if parts else torch.zeros(0, width)
            full[key] = torch.zeros(n_rays, width, dtype=values.dtype).index_put((index,), values)
        opacity = full["opacity"][:, 0]
        rgb = full["rgb"] + (1.0 - opacity)[:, None] * bg
        depth = torch.where(opacity > 1e-4, full["depth"][:, 0] / opacity.clamp_min(1e-4), torch.zeros_like(opacity))
        shape = (len(cams), size, size)
        out_rgb.append(rgb.reshape(*shape, 3))
        out_opacity.append(opacity.reshape(shape))
        out_depth.append(depth.reshape(shape))
        if normals:
            out_normals.append(full["normals"].reshape(*shape, 3))
            for p in parts:
                eik_sum = eik_sum + p["eikonal"]
                eik_count += p["count"]
    eikonal = (eik_sum / eik_count) if normals and eik_count else None
    return VolumeRender(rgb=torch.stack(out_rgb), opacity=torch.stack(out_opacity), depth=torch.stack(out_depth),
                        normals=torch.stack(out_normals) if normals else None,
                        eikonal=torch.as_tensor(eikonal) if eikonal is not None else None)


def _sample_distances(t_near: torch.Tensor, t_far: torch.Tensor, samples: int, perturb: bool,
                      generator: torch.Generator | None) -> torch.Tensor:
    """(n, S + 1) stratified distances: one per equal bin of [t_near, t_far], jittered or centered."""
    n = len(t_near)
    bins = torch.arange(samples + 1, dtype=torch.float32)
    offset = torch.rand(n, samples + 1, generator=generator) if perturb else torch.full((n, samples + 1), 0.5)
    return t_near[:, None] + (t_far - t_near)[:, None] * (bins + offset) / (samples + 1)


def _composite(field: TriplaneField, planes: torch.Tensor, origins: torch.Tensor, directions: torch.Tensor,
               z_per_t: torch.Tensor, t: torch.Tensor, inv_s: float, normals: bool, skip: bool) -> dict:
    """Composite n rays (origins, directions (n, 3)) sampled at distances t (n, S + 1) through
    one field (planes (1, …))."""
    n, samples = t.shape[0], t.shape[1] - 1
    points = origins[:, None] + t[..., None] * directions[:, None]  # (n, S + 1, 3)
    if skip and torch.is_grad_enabled():
        # pass 1 without a graph finds the intervals that matter (α > 1e-5 while the ray is
        # not yet opaque); pass 2 evaluates only their ends with gradients. Skipped intervals
        # count as α = 0 (measured: gradients within 0.1 % of the full graph's).
        with torch.no_grad():
            sdf_all = field.sdf(planes, points.reshape(1, -1, 3)).reshape(n, samples + 1)
            alpha_all = neus_alpha(sdf_all, inv_s)
            active = (alpha_all > SKIP_BELOW) & (transmittance(alpha_all) > SKIP_BELOW)
            need = torch.zeros(n, samples + 1, dtype=torch.bool)
            need[:, :-1] |= active
            need[:, 1:] |= active
        ray, k = need.nonzero(as_tuple=True)
        sdf_needed, rgb_needed = field(planes, points[ray, k][None])
        sdf = sdf_all.index_put((ray, k), sdf_needed[0])
        rgb = torch.zeros(n, samples + 1, 3, dtype=rgb_needed.dtype).index_put((ray, k), rgb_needed[0])
        alpha = neus_alpha(sdf, inv_s) * active
    else:
        sdf, rgb = field(planes, points.reshape(1, -1, 3))
        sdf = sdf.reshape(n, samples + 1)
        rgb = rgb.reshape(n, samples + 1, 3)
        alpha = neus_alpha(sdf, inv_s)
    weights = composite_weights(alpha)  # (n, S)
    t_mid = 0.5 * (t[:, :-1] + t[:, 1:])
    out = {
        "rgb": (weights[..., None] * 0.5 * (rgb[:, :-1] + rgb[:, 1:])).sum(1),
        "opacity": weights.sum(1, keepdim=True),
        "depth": (weights * t_mid * z_per_t[:, None]).sum(1, keepdim=True),
    }
    if normals:
        # normals only where an interval carries weight: a few samples per ray instead of S
        ray, k = (weights.detach() > NORMAL_MIN_WEIGHT).nonzero(as_tuple=True)
        at = origins[ray] + t_mid[ray, k, None] * directions[ray]
        grad = field.sdf_gradient(planes, at[None])[0]  # (m, 3)
        length = grad.norm(dim=-1, keepdim=True)
        unit = torch.zeros(n, samples, 3, dtype=grad.dtype).index_put((ray, k), grad / length.clamp_min(1e-8))
        out["normals"] = (weights[..., None] * unit).sum(1)
        out["eikonal"] = ((length - 1.0) ** 2).sum()
        out["count"] = len(ray)
    return out
