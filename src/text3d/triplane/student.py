"""The few-step triplane student of TriplaneTurbo (Ma et al., 2025): the multi-view teacher's frozen
backbone adapted by PETA (:mod:`text3d.nn.peta`) to denoise triplanes, plus the triplane decoder.

Sampling (K ≤ 4 steps, rectified-flow time s = 0 noise … 1 data, as the teacher): planes
z₀ ~ N(0, I) of shape (B, 3, C, R, R); at step k = 0 … K − 1 with s_k = k / K the student
predicts the clean planes ẑ = f(z_k, s_k, text), and the next step starts from that prediction
renoised to s_{k+1}: z_{k+1} = s_{k+1}·ẑ + (1 − s_{k+1})·ε (fresh ε). The last ẑ is decoded by
:class:`~text3d.triplane.field.TriplaneField` (SDF + color), which is trained with the adapters.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from text3d.errors import InputError
from text3d.nn.checkpoint import load_folder, save_folder
from text3d.nn.mvdiffusion import MultiViewDiT, MVDiffusionConfig, camera_features
from text3d.nn.peta import PETABackbone, PETAConfig, parameter_counts
from text3d.render.cameras import Camera
from text3d.triplane.field import TriplaneConfig, TriplaneField

MAX_STEPS = 4
"""TriplaneTurbo's few-step budget: K ≤ 4."""
PAPER_TRAINABLE_FRACTION = 0.025
"""PETA's trainable share in TriplaneTurbo (2.5 % of the frozen SD's parameters)."""


@dataclass
class StudentConfig:
    """Adaptation, step count and triplane decoder of the student."""

    adaptation: str = "peta"    # "peta", "lora" (basic LoRA) or "full" (full fine-tuning)
    steps: int = 4              # K
    plane_channels: int = 8
    texture_channels: int = 4   # the last channels feed the color head (θ_tex), the others the SDF (θ_geo)
    lora_rank: int = 4
    lora_alpha: float = 4.0
    cross_rank: int = 8
    hidden: int = 32            # decoder width
    layers: int = 2

    def __post_init__(self) -> None:
        if not 1 <= self.steps <= MAX_STEPS:
            raise InputError(f"student steps {self.steps}: K must be in [1, {MAX_STEPS}]")

    def peta(self) -> PETAConfig:
        return PETAConfig(self.adaptation, self.plane_channels, self.lora_rank, self.lora_alpha, self.cross_rank)


def plane_cameras() -> torch.Tensor:
    """Camera features (3, 16) of the axis-aligned cameras that "see" the planes XY (from +z),
    XZ (from +y) and YZ (from +x), for the backbone's frozen camera embedding."""
    cams = [Camera(yaw=0.0, pitch=90.0), Camera(yaw=0.0, pitch=0.0), Camera(yaw=90.0, pitch=0.0)]
    return camera_features(torch.from_numpy(np.stack([c.c2w() for c in cams])))


class TriplaneStudent(nn.Module):
    """PETA-adapted backbone (planes → planes) and the triplane decoder."""

    def __init__(self, backbone: MultiViewDiT, config: StudentConfig | None = None) -> None:
        super().__init__()
        self.config = config or StudentConfig()
        self.backbone = PETABackbone(backbone, self.config.peta(), plane_cameras())
        self.backbone_parameters = sum(p.numel() for p in backbone.parameters())
        c = self.config
        self.field = TriplaneField(TriplaneConfig(channels=c.plane_channels, resolution=self.backbone.resolution,
                                                  texture_channels=c.texture_channels, hidden=c.hidden,
                                                  layers=c.layers))

    def plane_shape(self, batch: int) -> tuple[int, int, int, int, int]:
        return self.field.config.plane_shape(batch)

    def times(self, steps: int | None = None) -> list[float]:
        """Flow times s_0 … s_K of K steps: s_k = k / K (s_K = 1, clean)."""
        k = steps or self.config.steps
        if not 1 <= k <= MAX_STEPS:
            raise InputError(f"student steps {k}: K must be in [1, {MAX_STEPS}]")
        return [i / k for i in range(k + 1)]

    def text_context(self, states: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """MiniLM states (B, L, 384) and mask → the backbone's projected context (frozen projection)."""
        return self.backbone.trunk.text_context(states, mask)

    def denoise(self, z: torch.Tensor, s: float, context: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Clean planes ẑ (B, 3, C, R, R) from planes ``z`` at flow time ``s``."""
        return self.backbone(z, torch.full((z.shape[0],), float(s)), context, mask)

    @staticmethod
    def renoise(planes: torch.Tensor, s: float, generator: torch.Generator | None = None) -> torch.Tensor:
        """z = s·ẑ + (1 − s)·ε: the start of the next step."""
        noise = torch.randn(planes.shape, generator=generator)
        return s * planes + (1.0 - s) * noise

    def noise(self, batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(self.plane_shape(batch), generator=generator)

    @torch.no_grad()
    def sample(self, states: torch.Tensor, mask: torch.Tensor, steps: int | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Triplanes (B, 3, C, R, R) for MiniLM ``states`` (B, L, 384) / ``mask`` in K steps."""
        times = self.times(steps)
        context, context_mask = self.text_context(states, mask)
        z = self.noise(states.shape[0], generator)
        planes = z
        for k in range(len(times) - 1):
            planes = self.denoise(z, times[k], context, context_mask)
            if k + 2 < len(times):
                z = self.renoise(planes, times[k + 1], generator)
        return planes

    def parameter_report(self) -> dict[str, float | int]:
        """Trainable / frozen / total counts, the trainable share of all parameters and the trainable
        count relative to the backbone's own size (the paper's "2.5 % additional parameters" to SD)."""
        counts = parameter_counts(self)
        return {**counts, "backbone": self.backbone_parameters,
                "trainable_fraction": counts["trainable"] / counts["total"],
                "trainable_per_backbone": counts["trainable"] / self.backbone_parameters,
                "paper_trainable_fraction": PAPER_TRAINABLE_FRACTION}

    # ------------------------------------------------------------------ files
    def save(self, folder: str | Path, card: str | None = None, extra: dict | None = None) -> Path:
        """``config.json`` (student and backbone configs) + ``model.safetensors`` (+ card). A tensor
        that float16 holds exactly (the frozen backbone, loaded from the teacher's float16 weights) is
        stored as float16, halving the file; loading casts every tensor back to float32."""
        config = {"model": "triplane-student", "student": asdict(self.config),
                  "backbone": self.backbone.trunk.config.to_dict(), **(extra or {})}
        state = {}
        for name, value in self.state_dict().items():
            value = value.detach().contiguous()
            half = value.half()
            state[name] = half if value.is_floating_point() and torch.equal(half.float(), value) else value
        return save_folder(folder, state, config, card=card)

    @classmethod
    def load(cls, folder: str | Path) -> "TriplaneStudent":
        """A student folder written by :meth:`save` (one-line error if it is not one)."""
        folder = Path(folder)
        if not (folder / "config.json").exists():
            raise InputError(f"student folder {folder}: no config.json (train one with `text3d train turbo`)")
        state, config = load_folder(folder)
        if config.get("model") != "triplane-student":
            raise InputError(f"student folder {folder}: config.json is not a triplane student's")
        try:
            student = cls(MultiViewDiT(MVDiffusionConfig(**config["backbone"])), StudentConfig(**config["student"]))
            student.load_state_dict(state)
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:  # a damaged or foreign folder
            detail = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
            raise InputError(f"student folder {folder}: config.json and model.safetensors do not make a triplane "
                             f"student ({type(exc).__name__}: {detail})") from None
        return student.eval()
