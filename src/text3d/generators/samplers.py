"""Samplers of the embedded generator: noise → latent tokens, named in its ``config.json``.

A sampler draws the starting noise of each candidate from its own seed and integrates the
velocity model from that noise to data. It is a part, like TRELLIS's samplers named in its
``pipeline.json``: ``{"name": "euler_flow", "args": {"steps": 8, "cfg": 3.0, "image_cfg": 2.0}}``
builds :class:`EulerFlowSampler` with those defaults; ``generate(steps=…, cfg=…)`` overrides them
per call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from text3d.errors import InputError
from text3d.limits import MAX_CFG, MAX_STEPS
from text3d.registry import Registry

if TYPE_CHECKING:
    import torch


class Sampler(Protocol):
    """What the embedded backend asks of a sampler: default ``steps`` and ``cfg``, noise, integration."""

    steps: int
    cfg: float

    def cfg_for(self, modality: str) -> float:
        """The default guidance weight of a ``"text"`` or ``"image"`` (image-token) condition."""
        ...

    def noise(self, shape: tuple[int, ...], seeds: Sequence[int], device: Any) -> "torch.Tensor": ...

    def __call__(self, velocity: Any, noise: "torch.Tensor", context: "torch.Tensor", mask: "torch.Tensor",
                 null_context: "torch.Tensor", null_mask: "torch.Tensor", steps: int | None = None,
                 cfg: float | None = None) -> "torch.Tensor": ...


samplers: Registry[Sampler] = Registry("sampler", ())
"""Sampler name → class; ``args`` of the config are its constructor's keywords."""


@samplers.register("euler_flow")
@dataclass(frozen=True)
class EulerFlowSampler:
    """Rectified-flow Euler integration with classifier-free guidance (:func:`text3d.nn.flow.euler_sample`).

    ``steps`` uniform steps from t = 0 (noise) to t = 1 (data); with guidance weight ``cfg`` the
    velocity is v_∅ + cfg·(v_c − v_∅). ``image_cfg`` is the default weight of image-token
    conditions (None: ``cfg``), which the model card chooses apart: the image path has its own
    adapter and null tokens, and generated tokens (GAP3D) stray from the renders' tokens.
    """

    steps: int = 8
    cfg: float = 3.0
    image_cfg: float | None = None

    def __post_init__(self) -> None:
        """Refuse (one line) a config value the sampler cannot use: the CLI's ranges apply."""
        where = "generator config: sampler 'euler_flow'"
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or not 1 <= self.steps <= MAX_STEPS:
            raise InputError(f"{where}: steps must be an integer in [1, {MAX_STEPS}], not {self.steps!r}")
        for name in ("cfg", "image_cfg"):
            value = getattr(self, name)
            if value is None and name == "image_cfg":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= MAX_CFG:
                raise InputError(f"{where}: {name} must be a number in [0, {MAX_CFG:g}], not {value!r}")

    def cfg_for(self, modality: str) -> float:
        """``image_cfg`` (when set) for ``"image"`` conditions, else ``cfg``."""
        return self.image_cfg if modality == "image" and self.image_cfg is not None else self.cfg

    def noise(self, shape: tuple[int, ...], seeds: Sequence[int], device: Any) -> "torch.Tensor":
        """Standard normal noise (len(seeds), *shape[1:]); row j comes from a CPU generator seeded
        ``seeds[j]``, so a candidate's sample does not depend on how many are drawn with it."""
        import torch

        rows = [torch.randn(shape, generator=torch.Generator(device="cpu").manual_seed(int(seed))) for seed in seeds]
        return torch.cat(rows).to(device)

    def __call__(self, velocity: Any, noise: "torch.Tensor", context: "torch.Tensor", mask: "torch.Tensor",
                 null_context: "torch.Tensor", null_mask: "torch.Tensor", steps: int | None = None,
                 cfg: float | None = None) -> "torch.Tensor":
        """Data latents (B, N, D) from ``noise`` (B, N, D) under ``context`` (B, L, W) and its mask."""
        from text3d.nn.flow import euler_sample  # imports torch: kept off the light import path

        return euler_sample(velocity, noise, context, mask, null_context, null_mask, steps=steps or self.steps,
                            cfg=self.cfg if cfg is None else cfg)
