"""Rectified flow over the aligner's three token groups: training loss and Euler sampler with CFG.

GAP3D (Gkotsi et al., 2026), §4.2: three synchronized paths share one timestep t per sample,
x_t^k = t·x₁^k + (1 − t)·x₀^k for k ∈ {cls, registers, patches}, each group with its own Gaussian
noise x₀^k; the model predicts the three velocities jointly and the loss is Σ_k λ_k ‖v^k − (x₁^k − x₀^k)‖²
with λ = (patches 0.4, cls 0.3, registers 0.3) (App. A.2). The time convention and the timestep
distribution (logit-normal) are those of :mod:`text3d.nn.flow`: t = 0 is noise, t = 1 is data.

Random draws, in this order from ``generator``: the noise of each group in :data:`GROUPS` order,
then t (B,), then the dropout coin (B,) (loss); the noise of each group (sampler).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import torch

from text3d.nn.aligner import GROUPS, group_shapes
from text3d.nn.flow import sample_timesteps

GROUP_WEIGHTS: Mapping[str, float] = MappingProxyType({"patches": 0.4, "cls": 0.3, "registers": 0.3})

Velocity = Callable[..., dict[str, torch.Tensor]]


def aligner_flow_loss(model: Velocity, x1: Mapping[str, torch.Tensor], cond: torch.Tensor,
                      weights: Mapping[str, float] = GROUP_WEIGHTS, drop_prob: float = 0.1,
                      generator: torch.Generator | None = None, *, cond_mask: torch.Tensor | None = None,
                      ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """(Σ_k λ_k · mean((v^k − (x₁^k − x₀^k))²), {k: unweighted group mean, detached}).

    ``x1``: target tokens {cls (B, 1, D), registers (B, R, D), patches (B, G², D)}; ``cond``: C (B, s,
    cond_dim) with optional mask (B, s). Each sample's condition is replaced by the model's null
    sequence with probability ``drop_prob`` (classifier-free guidance training). ``model`` is called
    as model(x_t, t, cond, cond_mask, drop) (an :class:`~text3d.nn.aligner.AlignerDiT`).
    """
    ref = x1["patches"]
    b, device = ref.shape[0], ref.device
    x0 = {k: torch.randn(x1[k].shape, device=device, generator=generator) for k in GROUPS}
    t = sample_timesteps(b, device, generator)  # (B,), one t for all three groups of a sample
    drop = torch.rand(b, device=device, generator=generator) < drop_prob
    tt = t.view(b, 1, 1)
    xt = {k: tt * x1[k] + (1 - tt) * x0[k] for k in GROUPS}
    v = model(xt, t, cond, cond_mask, drop)
    per_group = {k: ((v[k].float() - (x1[k] - x0[k])) ** 2).mean() for k in GROUPS}
    loss = sum(weights[k] * per_group[k] for k in GROUPS)
    return loss, {k: value.detach() for k, value in per_group.items()}


def rescaled(guided: torch.Tensor, conditional: torch.Tensor, phi: float) -> torch.Tensor:
    """φ·guided·σ(conditional)/σ(guided) + (1 − φ)·guided; σ per sample over (N, D) of (B, N, D)."""
    spread = guided.float().std(dim=(1, 2), keepdim=True).clamp_min(1e-8)
    ratio = conditional.float().std(dim=(1, 2), keepdim=True) / spread
    return phi * guided * ratio + (1 - phi) * guided


@torch.no_grad()
def aligner_euler_sample(model: Velocity, cond: torch.Tensor, steps: int = 32, cfg: float = 3.0,
                         generator: torch.Generator | None = None, *,
                         cond_mask: torch.Tensor | None = None,
                         guidance_rescale: float = 0.0, temperature: float = 1.0,
                         group_cfg: Mapping[str, float] | None = None) -> dict[str, torch.Tensor]:
    """Integrate dx/dt = v from noise (t = 0) to tokens (t = 1) in ``steps`` uniform Euler steps.

    v_k = v_∅,k + w_k·(v_c,k − v_∅,k) per token group k, with v_∅ the prediction under the null
    condition and w_k = ``group_cfg[k]`` where given, else ``cfg``; every w_k = 1 runs the
    conditional model alone. The groups share one network pass, so a weight per group costs
    nothing: the CLS and registers carry what the caption names (stronger guidance sharpens it),
    the patch grid its layout (which stronger guidance pushes off the data).
    ``guidance_rescale`` φ pulls the guided velocity's scale back to the
    conditional one's, per sample and group (Lin et al., 2024, "Common Diffusion Noise Schedules and
    Sample Steps are Flawed", §3.4): v ← φ·v·σ(v_c)/σ(v) + (1 − φ)·v, σ over tokens × channels;
    guidance inflates the tokens' norms without it. ``temperature`` τ starts from x₀ = τ·ε, ε ~ N(0, I):
    reduced-temperature sampling (Kingma & Dhariwal, 2018, "Glow", §5), which trades the samples'
    spread for their closeness to the condition's likely tokens (τ = 0: one deterministic sample
    per condition). ``model`` needs a ``config``
    (:class:`~text3d.nn.aligner.AlignerConfig`) for the token shapes. Returns {cls (B, 1, D),
    registers (B, R, D), patches (B, G², D)}.
    """
    b, device = cond.shape[0], cond.device
    x = {k: temperature * torch.randn(shape, device=device, generator=generator)
         for k, shape in group_shapes(model.config, b).items()}
    weights = {k: float((group_cfg or {}).get(k, cfg)) for k in GROUPS}
    guided = any(w != 1.0 for w in weights.values())
    if guided:
        # One batch of 2B: the conditional rows, then the same rows with the null condition.
        both_cond = torch.cat([cond, cond])
        both_mask = None if cond_mask is None else torch.cat([cond_mask, cond_mask])
        drop = torch.arange(2 * b, device=device) >= b
    for i in range(steps):
        t = torch.full((b,), i / steps, device=device)
        if guided:
            v_both = model({k: torch.cat([x[k], x[k]]) for k in GROUPS}, torch.cat([t, t]), both_cond, both_mask, drop)
            v = {k: v_both[k][b:] + weights[k] * (v_both[k][:b] - v_both[k][b:]) for k in GROUPS}
            if guidance_rescale:
                v = {k: rescaled(v[k], v_both[k][:b], guidance_rescale) for k in GROUPS}
        else:
            v = model(x, t, cond, cond_mask)
        x = {k: x[k] + v[k].float() / steps for k in GROUPS}
    return x
