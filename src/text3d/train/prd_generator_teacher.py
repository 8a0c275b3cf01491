"""A 3D generator's renders as a multi-view teacher: Table 4's third signal of the TriplaneTurbo study.

TriplaneTurbo (Ma et al., 2025) supervises its renders with 2D diffusion teachers only. This teacher
asks what a 3D generator would give instead: for each prompt it generates one asset with a text3d
backend (the multi-step embedded generator by default; seed fixed, the asset cached per prompt) and
renders it from the very cameras of the student's views, in the embedded teacher's view space
(:func:`text3d.train.mvdiffusion_data.encode_views`: RGB on white, normal, depth; 2×2 supersampled).
Its "denoised estimate" is that render whatever the noise: a teacher that is certain, so score
distillation becomes regression onto the generator's views. The student still adapts the embedded
teacher's backbone (``model``, ``text_encoder`` are the base teacher's).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from text3d.nn.teachers.embedded import EmbeddedMVTeacher
from text3d.render.cameras import Camera

CACHED_ASSETS = 512
"""Assets kept in memory (least recently used first out); each is a few thousand faces."""


def camera_from_c2w(c2w: np.ndarray, resolution: int) -> Camera:
    """The look-at-origin :class:`Camera` whose ``c2w()`` is ``c2w`` (4, 4): radius |p|,
    pitch asin(p_z / r), yaw atan2(p_x, p_y) of its position p (degrees)."""
    p = np.asarray(c2w, dtype=np.float64)[:3, 3]
    radius = float(np.linalg.norm(p))
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, p[2] / radius))))
    yaw = math.degrees(math.atan2(p[0], p[1]))
    return Camera(yaw=yaw, pitch=pitch, radius=radius, resolution=resolution)


class GeneratorRendersTeacher:
    """Teacher interface (:class:`~text3d.nn.teachers.base.Teacher`) over a 3D generator's renders."""

    name = "generator-renders"

    def __init__(self, base: EmbeddedMVTeacher, backend: str = "embedded", seed: int = 0,
                 generator: Any = None) -> None:
        if base.channels != 7:
            from text3d.errors import InputError

            raise InputError(f"teacher {base.name}: the generator's renders are RGB + normal + depth (7 channels); "
                             f"this teacher takes {base.channels}")
        self.base = base
        self.model = base.model
        self.text_encoder = base.text_encoder
        self.views, self.channels = base.views, base.channels
        self.backend, self.seed = backend, seed
        self._generator = generator
        self._assets: OrderedDict[str, Any] = OrderedDict()

    def _asset(self, prompt: str) -> Any:
        from text3d.generators.base import Condition, create_generator

        if prompt in self._assets:
            self._assets.move_to_end(prompt)
            return self._assets[prompt]
        if self._generator is None:
            self._generator = create_generator(self.backend)
        asset = self._generator.generate(Condition(prompt=prompt), seed=self.seed).asset
        self._assets[prompt] = asset
        if len(self._assets) > CACHED_ASSETS:
            self._assets.popitem(last=False)
        return asset

    def encode(self, views: torch.Tensor) -> torch.Tensor:
        """Pixel space, as the base teacher's."""
        return self.base.encode(views)

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.base.add_noise(x0, noise, t)

    @torch.no_grad()
    def denoise(self, x_t: torch.Tensor, t: torch.Tensor, prompts: Sequence[str], cameras: torch.Tensor,
                guidance: float = 1.0, guidance_rescale: float = 0.0) -> torch.Tensor:
        """The generator's asset of each prompt rendered from ``cameras`` (B, V, 4, 4) at the size of
        ``x_t`` (B, V, 7, S, S); ``x_t``, ``t`` and the guidance do not change it."""
        from text3d.render.renderer import render
        from text3d.train.mvdiffusion_data import encode_views

        size = x_t.shape[-1]
        items = []
        for prompt, ring in zip(prompts, cameras.detach().cpu().numpy()):
            result = render(self._asset(prompt), [camera_from_c2w(m, 2 * size) for m in ring], background="white",
                            depth=True, normals=True)
            items.append(encode_views(result.rgb[..., :3], result.normals, result.depth, result.mask))
        return torch.from_numpy(np.stack(items)).to(dtype=x_t.dtype, device=x_t.device)
