"""The interface every diffusion teacher shares, and the teacher registry.

Score distillation in image space, as TriplaneTurbo's (Ma et al., 2025) progressive rendering
distillation uses it: the student's renders x (B, V, C, H, W) in [−1, 1] are mapped into the
teacher's space (:meth:`Teacher.encode`: identity for a pixel-space teacher, the VAE for a latent
one), noised to a teacher time t with :meth:`Teacher.add_noise`, and
:meth:`Teacher.denoise` returns the teacher's guided estimate of the clean views x̂₀; the
student's target is x̂₀ (stop-gradient), so ‖x − x̂₀‖² pulls its renders toward the teacher.

Conventions shared by every backend:

* t ∈ [0, 1] is the noise level: t = 0 clean, t = 1 pure noise (each backend maps it to its own
  schedule: flow time 1 − t for the embedded rectified flow, timestep ⌊t·(T − 1)⌉ of a DDPM
  schedule of T steps for Stable Diffusion / MVDream);
* the output is always x̂₀, the denoised estimate (not ε), in the teacher's space;
* classifier-free guidance with scale w: x̂₀ = x̂₀(∅) + w·(x̂₀(c) − x̂₀(∅)) (w = 1: conditional only;
  for ε- and v-prediction backends this equals guiding the prediction itself, the map to x̂₀ being
  affine at fixed x_t and t), optionally rescaled toward the conditional estimate's contrast
  (``guidance_rescale``, see :func:`guide`);
* cameras are camera-to-world matrices (B, V, 4, 4), text3d's OpenCV axes (:meth:`Camera.c2w`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import torch

from text3d.registry import Registry

TextEncoder = Callable[[Sequence[str]], tuple[torch.Tensor, torch.Tensor]]
"""Prompts → (token states (B, L, D), attention mask (B, L)): a teacher's text encoder."""

teachers: Registry["Teacher"] = Registry("teacher", ("text3d.nn.teachers",))
"""Teacher backends by name; each factory takes ``path``, ``device`` and ``text_encoder``."""


@runtime_checkable
class Teacher(Protocol):
    """A text- and camera-conditioned denoiser of V views (see the module docstring)."""

    name: str
    views: int
    """Views denoised jointly (1: each view on its own)."""
    channels: int
    """Channels of the views :meth:`encode` takes (3 RGB, or 7 with normals and depth)."""

    def encode(self, views: torch.Tensor) -> torch.Tensor:
        """Views (B, V, C, H, W) in [−1, 1] → the teacher's clean space x₀."""
        ...

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x_t of clean ``x0`` at noise levels ``t`` (B,) with Gaussian ``noise`` of the same shape."""
        ...

    def denoise(self, x_t: torch.Tensor, t: torch.Tensor, prompts: Sequence[str], cameras: torch.Tensor,
                guidance: float = 1.0, guidance_rescale: float = 0.0) -> torch.Tensor:
        """The guided denoised estimate x̂₀ (same shape as ``x_t``) for ``prompts`` (B) seen
        from ``cameras`` (B, V, 4, 4) at noise levels ``t`` (B,)."""
        ...


def guide(conditional: torch.Tensor, unconditional: torch.Tensor, scale: float,
          rescale: float = 0.0) -> torch.Tensor:
    """Classifier-free guidance of x̂₀ estimates (B, ...): g = u + w·(c − u), then with rescale φ > 0
    g ← g + φ·(μ_g + (g − μ_g)·σ_c/σ_g − g), μ and σ per sample over all other axes.

    The guidance rescale of Lin et al. (2024, "Common diffusion noise schedules and sample steps are
    flawed") brings the guided estimate's spread back to the conditional one's, which strong guidance
    inflates (over-saturated, exaggerated targets). Here it acts on x̂₀, whose mean is the image's
    brightness rather than ~0 as for ε, so the spread is matched about the mean instead of scaling
    the whole estimate toward 0 (which would grey a white background)."""
    guided = unconditional + scale * (conditional - unconditional)
    if rescale <= 0:
        return guided
    axes = tuple(range(1, guided.dim()))
    mean = guided.mean(axes, keepdim=True)
    ratio = conditional.std(axes, keepdim=True) / guided.std(axes, keepdim=True).clamp_min(1e-8)
    return guided + rescale * (mean + (guided - mean) * ratio - guided)


def load_teacher(name: str, path: str | None = None, device: str = "cpu",
                 text_encoder: TextEncoder | None = None) -> Teacher:
    """The teacher registered as ``name`` (one-line errors for an unknown name or a missing model)."""
    return teachers.create(name, path=path, device=device, text_encoder=text_encoder)
