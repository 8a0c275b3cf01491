"""2D rotary position embedding (RoPE) for a grid of tokens, as Lumina-Next (Zhuo et al., 2024) uses it.

RoPE (Su et al., 2021, "RoFormer") rotates each pair of channels (x_{2i}, x_{2i+1}) of a query or
key by an angle proportional to the token's position, so that the dot product of a rotated query
and key depends on the two positions only through their offset. In 2D the head dimension is split
in halves: the first half rotates by the row index, the second by the column index, each half with
its own frequency ladder ω_i = base^(−4i / head_dim), i = 0 … head_dim/4 − 1.

Tokens without a grid position (a CLS token, registers) take identity factors, cos = 1 and sin = 0,
and pass through unrotated (GAP3D (Gkotsi et al., 2026), §4.1.3).

Factors are laid out per channel: ``cos[..., 2i] = cos[..., 2i + 1] = cos θ_i`` (same for sin), so
:func:`apply_rope` is two elementwise products and a pair swap.
"""

from __future__ import annotations

import torch


def _check_head_dim(head_dim: int) -> None:
    if head_dim <= 0 or head_dim % 4:
        raise ValueError(f"2D RoPE needs a head dimension divisible by 4, got {head_dim}")


def rope_frequencies(dim: int, base: float = 10000.0) -> torch.Tensor:
    """ω_i = base^(−2i / dim) for i = 0 … dim/2 − 1: the 1D frequency ladder of ``dim`` channels, (dim/2,)."""
    return base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)


def rope_2d_angles(rows: int, cols: int, head_dim: int, base: float = 10000.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(cos, sin), each (rows·cols, head_dim), for a row-major grid: token r·cols + c has angles
    θ = [r·ω, c·ω] (row half, column half), each angle repeated over its channel pair."""
    _check_head_dim(head_dim)
    freqs = rope_frequencies(head_dim // 2, base)  # (head_dim/4,)
    r = torch.arange(rows, dtype=torch.float64).repeat_interleave(cols)  # (N,) row of each token
    c = torch.arange(cols, dtype=torch.float64).repeat(rows)  # (N,) column of each token
    angles = torch.cat([r[:, None] * freqs, c[:, None] * freqs], dim=-1)  # (N, head_dim/2)
    angles = angles.repeat_interleave(2, dim=-1)  # (N, head_dim): one angle per channel pair
    return torch.cos(angles).float(), torch.sin(angles).float()


def identity_angles(n: int, head_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(cos, sin) = (1, 0), each (n, head_dim): factors that leave ``n`` tokens unrotated."""
    _check_head_dim(head_dim)
    return torch.ones(n, head_dim), torch.zeros(n, head_dim)


def rotate_pairs(x: torch.Tensor) -> torch.Tensor:
    """(x_{2i}, x_{2i+1}) → (−x_{2i+1}, x_{2i}) over the last dimension: a quarter turn of each pair."""
    pairs = x.unflatten(-1, (-1, 2))  # (..., head_dim/2, 2)
    return torch.stack([-pairs[..., 1], pairs[..., 0]], dim=-1).flatten(-2)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x·cos + rotate_pairs(x)·sin: each channel pair of x (B, heads, N, head_dim) turned by its angle.

    ``cos`` and ``sin`` are (N, head_dim) (or anything broadcasting to x); they are cast to x's dtype.
    """
    cos = cos.to(device=x.device, dtype=x.dtype)
    sin = sin.to(device=x.device, dtype=x.dtype)
    return x * cos + rotate_pairs(x) * sin
