"""The embedded multi-view teacher: :class:`~text3d.nn.mvdiffusion.MultiViewDiT` trained on toyworld
renders (``text3d train mvdiffusion``), denoising 4 views of RGB + normal + depth jointly."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from text3d.errors import InputError
from text3d.nn.checkpoint import load_folder, resolve_model_folder
from text3d.nn.mvdiffusion import MultiViewDiT, MVDiffusionConfig, camera_features, velocity_to_x0
from text3d.nn.teachers.base import TextEncoder, guide, teachers

MODEL_NAME = "toyworld-mvdiffusion"
"""Folder name of the shipped weights (``text3d/weights/``) and of a training run's output."""


class EmbeddedMVTeacher:
    """x̂₀ of the embedded rectified flow: at noise level t the flow time is s = 1 − t,
    x_t = (1 − t)·x₀ + t·ε, and x̂₀ = x_t + t·v_θ (guidance on v, i.e. on x̂₀)."""

    name = "embedded-mvdiffusion"

    def __init__(self, model: MultiViewDiT, text_encoder: TextEncoder, device: str = "cpu",
                 folder: Path | None = None) -> None:
        self.model = model.to(device).eval().requires_grad_(False)
        self.text_encoder = text_encoder
        self.device = device
        self.folder = folder
        self.views = model.config.views
        self.channels = model.config.channels
        self._texts: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, device: str = "cpu",
                        text_encoder: TextEncoder | None = None) -> "EmbeddedMVTeacher":
        """Load a model folder (default: the shipped one); ``text_encoder`` gives MiniLM token states."""
        folder = resolve_model_folder(path, MODEL_NAME)
        if text_encoder is None:
            raise InputError("teacher embedded-mvdiffusion: no text encoder given (it reads all-MiniLM-L6-v2 "
                             "token states; load it with text3d.train.mvdiffusion.load_embedded_teacher)")
        state, config = load_folder(folder)
        try:
            model = MultiViewDiT(MVDiffusionConfig(**config["model"]))
            model.load_state_dict(state)
        except (KeyError, TypeError, ValueError, RuntimeError):  # another model's folder, or damaged weights
            raise InputError(f"{folder}: not a multi-view teacher's folder (its config.json and weights are not a "
                             f"{MODEL_NAME}'s; train one with `text3d train mvdiffusion`)") from None
        return cls(model, text_encoder, device, folder)

    def encode(self, views: torch.Tensor) -> torch.Tensor:
        """Pixel space: the views themselves, checked against the model's shape."""
        c = self.model.config
        if views.shape[1:] != (c.views, c.channels, c.image_size, c.image_size):
            raise InputError(f"views of shape {tuple(views.shape)}: teacher {self.name} takes "
                             f"(B, {c.views}, {c.channels}, {c.image_size}, {c.image_size})")
        return views

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x_t = (1 − t)·x₀ + t·ε."""
        t = t.view(-1, *[1] * (x0.dim() - 1)).to(x0.dtype)
        return (1 - t) * x0 + t * noise

    def _states(self, prompts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """MiniLM states of each prompt, cached (distillation asks for the same prompts again)."""
        missing = [p for p in dict.fromkeys(prompts) if p not in self._texts]
        if missing:
            states, mask = self.text_encoder(missing)
            for row, prompt in enumerate(missing):
                length = int(mask[row].sum())
                self._texts[prompt] = (states[row, :length].float(), mask[row, :length].bool())
        rows = [self._texts[p] for p in prompts]
        width = max(len(s) for s, _ in rows)
        out = torch.zeros(len(rows), width, rows[0][0].shape[-1])
        keep = torch.zeros(len(rows), width, dtype=torch.bool)
        for i, (s, m) in enumerate(rows):
            out[i, :len(s)], keep[i, :len(s)] = s, m
        return out.to(self.device), keep.to(self.device)

    def denoise(self, x_t: torch.Tensor, t: torch.Tensor, prompts: Sequence[str], cameras: torch.Tensor,
                guidance: float = 1.0, guidance_rescale: float = 0.0) -> torch.Tensor:
        """Guided x̂₀ of ``x_t`` (B, V, 7, S, S); gradients flow to ``x_t`` (the model is frozen)."""
        b = x_t.shape[0]
        if len(prompts) != b or cameras.shape[:2] != x_t.shape[:2]:
            raise InputError(f"teacher {self.name}: {len(prompts)} prompts and cameras {tuple(cameras.shape)} "
                             f"for views {tuple(x_t.shape)}")
        s = (1 - t.float()).to(x_t.device).expand(b) if t.dim() == 0 else 1 - t.float().to(x_t.device)
        cams = camera_features(cameras.to(x_t.device))
        context, mask = self.model.text_context(*self._states(prompts))
        if guidance == 1.0:
            return velocity_to_x0(x_t, s, self.model(x_t, s, cams, context, mask))
        null, null_mask = self.model.null_context(b, x_t.device)
        width = max(context.shape[1], null.shape[1])
        pad = lambda c, m: (torch.nn.functional.pad(c, (0, 0, 0, width - c.shape[1])),  # noqa: E731
                            torch.nn.functional.pad(m, (0, width - m.shape[1])))
        (context, mask), (null, null_mask) = pad(context, mask), pad(null, null_mask)
        v = self.model(torch.cat([x_t, x_t]), torch.cat([s, s]), torch.cat([cams, cams]),
                       torch.cat([context, null]), torch.cat([mask, null_mask]))
        if guidance_rescale <= 0:  # guidance is affine in the velocity at fixed x_t and s
            return velocity_to_x0(x_t, s, guide(v[:b], v[b:], guidance))
        return guide(velocity_to_x0(x_t, s, v[:b]), velocity_to_x0(x_t, s, v[b:]), guidance, guidance_rescale)


@teachers.register("embedded-mvdiffusion")
def load_embedded(path: str | Path | None = None, device: str = "cpu",
                  text_encoder: TextEncoder | None = None) -> EmbeddedMVTeacher:
    """Registry factory: :meth:`EmbeddedMVTeacher.from_pretrained`."""
    return EmbeddedMVTeacher.from_pretrained(path, device, text_encoder)
