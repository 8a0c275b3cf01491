"""Rectified flow (Liu et al. 2023): training loss and the Euler sampler with CFG.

Path: x_t = t·x₁ + (1 − t)·x₀ with x₀ ~ N(0, I) noise and x₁ data, t ∈ [0, 1]; the target
velocity is u = x₁ − x₀ and the loss ‖v_θ(x_t, t, c) − u‖² (eq. 1–2 of GAP3D (Gkotsi et al.,
2026), generative alignment of a language model's latents to an image encoder's patch tokens). Training
draws t from a logit-normal distribution, σ(N(0, 1)), which weights the middle of the path
(as SD3 does). Sampling integrates dx/dt = v from t = 0 to 1 with Euler steps; with
classifier-free guidance v = v_∅ + w·(v_c − v_∅).
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def sample_timesteps(batch: int, device: torch.device, generator: torch.Generator | None = None) -> torch.Tensor:
    """t = σ(n), n ~ N(0, 1): logit-normal timesteps in (0, 1)."""
    return torch.sigmoid(torch.randn(batch, device=device, generator=generator))


def flow_loss(model: Callable[..., torch.Tensor], x1: torch.Tensor, context: torch.Tensor,
              context_mask: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Mean ‖v_θ(x_t, t) − (x₁ − x₀)‖² over a batch of data latents ``x1``."""
    x0 = torch.randn(x1.shape, device=x1.device, generator=generator)
    t = sample_timesteps(x1.shape[0], x1.device, generator)
    xt = t.view(-1, *[1] * (x1.dim() - 1)) * x1 + (1 - t.view(-1, *[1] * (x1.dim() - 1))) * x0
    v = model(xt, t, context, context_mask)
    return ((v.float() - (x1 - x0)) ** 2).mean()


@torch.no_grad()
def euler_sample(model: Callable[..., torch.Tensor], noise: torch.Tensor, context: torch.Tensor,
                 context_mask: torch.Tensor, null_context: torch.Tensor | None = None,
                 null_mask: torch.Tensor | None = None, steps: int = 8, cfg: float = 3.0) -> torch.Tensor:
    """Integrate from ``noise`` (t = 0) to data (t = 1) in ``steps`` uniform Euler steps."""
    x = noise
    b = x.shape[0]
    guided = null_context is not None and cfg != 1.0
    if guided:
        width = max(context.shape[1], null_context.shape[1])
        pad = lambda c, m: (torch.nn.functional.pad(c, (0, 0, 0, width - c.shape[1])),  # noqa: E731
                            torch.nn.functional.pad(m, (0, width - m.shape[1])))
        context, context_mask = pad(context, context_mask)
        null_context, null_mask = pad(null_context, null_mask)
        both_ctx = torch.cat([context, null_context])
        both_mask = torch.cat([context_mask, null_mask])
    for i in range(steps):
        t = torch.full((b,), i / steps, device=x.device)
        if guided:
            v_both = model(torch.cat([x, x]), torch.cat([t, t]), both_ctx, both_mask)
            v_cond, v_null = v_both[:b], v_both[b:]
            v = v_null + cfg * (v_cond - v_null)
        else:
            v = model(x, t, context, context_mask)
        x = x + v.float() / steps
    return x
