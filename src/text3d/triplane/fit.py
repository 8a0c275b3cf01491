"""Fit one triplane to target views by dual rendering (volume + mesh), the supervision path of
TriplaneTurbo's progressive rendering distillation (Ma et al., 2025) with a perfect teacher.

Each step renders a random subset of the views both ways, shades them with the renderer's
lighting (:func:`text3d.triplane.shading.shade`) and takes the mean squared error against the
target sRGB images and masks, plus an eikonal term λ·(‖∇sdf‖ − 1)² on the volume samples
(IGR, Gropp et al., 2020). As in NeuS, the sharpness s grows during training (linearly from
``inv_s_start`` to ``inv_s_end``); mesh rendering joins after ``mesh_after`` steps, once the
SDF has a surface worth meshing (``renderers`` = "volume" or "mesh" keeps one of the two, the
paper's dual-rendering ablation). How well a fit reproduces unseen views bounds what the
distillation can reach with this representation at this size.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from text3d.errors import InputError
from text3d.render.cameras import Camera
from text3d.triplane.field import TriplaneField
from text3d.triplane.mesh_render import render_mesh
from text3d.triplane.shading import shade
from text3d.triplane.volume import render_volume

log = logging.getLogger(__name__)


@dataclass
class FitConfig:
    """Optimization settings of :func:`fit_views`."""

    steps: int = 150
    views_per_step: int = 4
    plane_lr: float = 0.03
    decoder_lr: float = 3e-3
    samples: int = 32
    inv_s_start: float = 32.0
    inv_s_end: float = 128.0
    eikonal: float = 0.1
    mesh_after: int = 30          # steps of volume rendering only before mesh rendering joins
    mesh_resolution: int = 32
    renderers: str = "both"       # "both", "volume" or "mesh" (the dual-rendering ablation)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.renderers not in ("both", "volume", "mesh"):
            raise InputError(f"fit renderers {self.renderers!r}: use 'both', 'volume' or 'mesh'")


def fit_views(field: TriplaneField, planes: torch.Tensor, cameras: Sequence[Camera], images: torch.Tensor,
              masks: torch.Tensor, config: FitConfig | None = None) -> list[float]:
    """Optimize ``planes`` (1, 3, C, R, R, a leaf tensor) and the decoder in place so that their
    shaded renders match ``images`` (V, H, W, 3) sRGB in [0, 1] over a white background and
    ``masks`` (V, H, W) in {0, 1} from ``cameras``; returns the loss of every step."""
    config = config or FitConfig()
    field.check_planes(planes)
    if planes.shape[0] != 1 or not planes.is_leaf:
        raise InputError("fit_views: planes must be one triplane (1, 3, C, R, R) that is a leaf tensor")
    if images.shape[:1] != (len(cameras),) or masks.shape != images.shape[:3]:
        raise InputError(f"fit_views: {len(cameras)} cameras, images {tuple(images.shape)}, masks "
                         f"{tuple(masks.shape)}; expected (V, H, W, 3) and (V, H, W)")
    planes.requires_grad_(True)
    optimizer = torch.optim.Adam([{"params": [planes], "lr": config.plane_lr},
                                  {"params": list(field.parameters()), "lr": config.decoder_lr}])
    generator = torch.Generator().manual_seed(config.seed)
    losses = []
    for step in range(config.steps):
        pick = torch.randperm(len(cameras), generator=generator)[:config.views_per_step].tolist()
        cams = [cameras[i] for i in pick]
        target, target_mask = images[pick], masks[pick]
        inv_s = config.inv_s_start + (config.inv_s_end - config.inv_s_start) * step / max(1, config.steps - 1)
        optimizer.zero_grad()
        loss = planes.new_zeros(())
        if config.renderers != "mesh":
            vol = render_volume(field, planes, cams, samples=config.samples, inv_s=inv_s, perturb=True,
                                generator=generator, background=0.0)
            image = shade(vol.rgb[0], vol.normals[0], vol.opacity[0], cams)
            loss = (image - target).square().mean() + (vol.opacity[0] - target_mask).square().mean()
            loss = loss + config.eikonal * vol.eikonal
        if config.renderers != "volume" and (step >= config.mesh_after or config.renderers == "mesh"):
            mesh = render_mesh(field, planes, cams, resolution=config.mesh_resolution, background=0.0)
            image = shade(mesh.rgb[0], mesh.normals[0], mesh.opacity[0], cams)
            loss = loss + (image - target).square().mean() + (mesh.opacity[0] - target_mask).square().mean()
        if loss.requires_grad:  # a mesh-only step of a field without surface has nothing to learn from
            loss.backward()
            optimizer.step()
        losses.append(float(loss.detach()))
        if step % 25 == 0:
            log.debug("fit step %d: loss %.4f (inv_s %.0f)", step, losses[-1], inv_s)
    return losses
