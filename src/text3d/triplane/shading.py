"""The OpenGL renderer's lighting in torch, so triplane renders look like text3d's renders.

:mod:`text3d.render.renderer` shades in linear space and writes sRGB: a hemisphere ambient
mix(0.20, 0.34, ½ + ½ n_z), a key and a fill light fixed to the camera (0.72 and 0.22) and a
Blinn-Phong highlight with shininess clamp(2/r⁴ − 2, 1, 2048) and strength ½(1 − r)², on
two-sided normals (flipped to face the viewer). This module evaluates the same formula on
per-pixel albedo and normals from :func:`render_volume` or :func:`render_mesh`, differentiably,
and composites over the background in sRGB as the renderer's coverage does.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from text3d.render.cameras import Camera
from text3d.render.renderer import _camera_lights
from text3d.triplane.rays import camera_rays


def linear_to_srgb(c: torch.Tensor) -> torch.Tensor:
    """sRGB encoding of linear values, clamped to [0, 1] (IEC 61966-2-1)."""
    c = c.clamp(0.0, 1.0)
    return torch.where(c <= 0.0031308, 12.92 * c, 1.055 * c.clamp_min(1e-8) ** (1.0 / 2.4) - 0.055)


def shade(albedo: torch.Tensor, normals: torch.Tensor, opacity: torch.Tensor, cameras: Sequence[Camera],
          background: float | Sequence[float] = 1.0, roughness: float = 0.8) -> torch.Tensor:
    """sRGB images (..., V, H, W, 3) in [0, 1] from premultiplied linear ``albedo`` (albedo ×
    coverage, i.e. a render over a black background), world ``normals`` (…, V, H, W, 3, any
    length) and ``opacity`` (…, V, H, W), for the V ``cameras``; ``background`` is sRGB."""
    r = min(max(roughness, 0.05), 1.0)
    shininess = min(max(2.0 / r ** 4 - 2.0, 1.0), 2048.0)
    strength = 0.5 * (1.0 - r) ** 2
    bg = torch.as_tensor(background, dtype=albedo.dtype).expand(3)
    views = []
    for v, camera in enumerate(cameras):
        size = camera.resolution
        key, fill = (torch.as_tensor(x, dtype=albedo.dtype) for x in _camera_lights(camera))
        _, directions, _ = camera_rays(camera)
        view = -directions.reshape(size, size, 3).to(albedo.dtype)  # towards the eye
        alpha = opacity[..., v, :, :, None]
        base = albedo[..., v, :, :, :] / alpha.clamp_min(1e-4)
        n = normals[..., v, :, :, :]
        n = n / n.norm(dim=-1, keepdim=True).clamp_min(1e-8)
        n = torch.where((n * view).sum(-1, keepdim=True) < 0, -n, n)  # two-sided
        ambient = 0.20 + 0.14 * (0.5 + 0.5 * n[..., 2:3])
        diffuse = 0.72 * (n @ key).clamp_min(0.0)[..., None] + 0.22 * (n @ fill).clamp_min(0.0)[..., None]
        half = key + view
        half = half / half.norm(dim=-1, keepdim=True)
        spec = strength * ((n * half).sum(-1, keepdim=True).clamp_min(0.0) ** shininess)
        color = linear_to_srgb(base * (ambient + diffuse) + spec)
        views.append(color * alpha + bg * (1.0 - alpha))
    return torch.stack(views, dim=-4)
