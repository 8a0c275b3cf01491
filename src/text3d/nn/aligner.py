"""The alignment DiT of GAP3D (Gkotsi et al., 2026): language-model latents → image-encoder tokens.

A flow transformer after Lumina-Next (Zhuo et al., 2024) that generates the full token set of the
embedded image encoder (:class:`text3d.nn.vit.ViT`: one CLS token, R registers and a G×G patch
grid, each ``token_dim`` wide) from a condition sequence C (B, s, cond_dim), the hidden states of
soft tokens appended to a frozen text encoder's input (:mod:`text3d.nn.soft_prompt`).

The three noisy groups enter through their own linear projections (GAP3D §4.1.3):

* patches: a linear patch embedding (one encoder token per grid cell) and 2D RoPE in every
  self-attention, which is their only position signal;
* CLS and registers: linear projections plus learnable role/position embeddings, with identity
  rotary factors (no rotation).

The sequence is [CLS, registers, patches], the ViT's layout. Each block is adaLN-Zero modulated
self-attention (timestep only), cross-attention to C, and an MLP; queries and keys are
LayerNorm-ed per head before the rotation (QK-norm, as Lumina-Next does for stable training). A
final adaLN and one zero-initialized linear head per group give the three velocities jointly, so a
fresh model predicts zero velocity. A learned null sequence stands in for C when the condition is
dropped (classifier-free guidance).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from text3d.nn.blocks import MLP, Attention, modulate, timestep_embedding
from text3d.nn.rope import apply_rope, identity_angles, rope_2d_angles

GROUPS = ("cls", "registers", "patches")


class TokenCounts:
    """Counts of an image encoder's token sequence [CLS (1), registers (R), patches (G × G)]
    for a class with ``grid`` (G) and ``registers`` (R) attributes."""

    grid: int
    registers: int

    @property
    def patches(self) -> int:
        return self.grid * self.grid

    @property
    def tokens(self) -> int:
        return 1 + self.registers + self.patches


@dataclass
class AlignerConfig(TokenCounts):
    """Target token layout (grid, registers, token_dim), trunk size, and condition width."""

    grid: int = 8
    registers: int = 4
    token_dim: int = 192
    width: int = 384
    depth: int = 8
    heads: int = 6
    cond_dim: int = 384
    mlp_ratio: float = 4.0
    null_tokens: int = 4
    rope: bool = True  # False: patches carry no position at all (the model is then patch-permutation equivariant)
    rope_base: float = 10000.0
    qk_norm: bool = True

    @property
    def head_dim(self) -> int:
        return self.width // self.heads

    def to_dict(self) -> dict:
        return asdict(self)


def group_shapes(config: AlignerConfig, batch: int) -> dict[str, tuple[int, int, int]]:
    """Shape of each group: cls (B, 1, D), registers (B, R, D), patches (B, G², D)."""
    d = config.token_dim
    return {"cls": (batch, 1, d), "registers": (batch, config.registers, d), "patches": (batch, config.patches, d)}


class RopeSelfAttention(nn.Module):
    """Multi-head self-attention with optional per-head QK LayerNorm and rotary factors on q and k."""

    def __init__(self, dim: int, heads: int, qk_norm: bool = True) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"width {dim} is not divisible by {heads} heads")
        self.heads = heads
        head_dim = dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.q_norm = nn.LayerNorm(head_dim) if qk_norm else nn.Identity()
        self.k_norm = nn.LayerNorm(head_dim) if qk_norm else nn.Identity()
        self.out = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)  # (B, h, N, d_h)
        q = apply_rope(self.q_norm(q), cos, sin)
        k = apply_rope(self.k_norm(k), cos, sin)
        y = F.scaled_dot_product_attention(q, k, v)
        return self.out(y.transpose(1, 2).reshape(b, n, d))


class AlignerBlock(nn.Module):
    """adaLN-Zero RoPE self-attention, cross-attention to the condition, and MLP.

    x ← x + g₁·Attn(mod(LN(x), s₁, c₁)); x ← x + Cross(LN(x), C); x ← x + g₂·MLP(mod(LN(x), s₂, c₂)),
    with (s, c, g) from the timestep embedding and g, and the cross output, zero at initialization.
    """

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0, qk_norm: bool = True) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False)
        self.attn = RopeSelfAttention(dim, heads, qk_norm)
        self.norm_cross = nn.LayerNorm(dim)
        self.cross = Attention(dim, heads, dim)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False)
        self.mlp = MLP(dim, mlp_ratio)
        self.ada = nn.Linear(dim, 6 * dim)
        for layer in (self.ada, self.cross.out):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, t_emb: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor,
                context: torch.Tensor, context_mask: torch.Tensor | None = None) -> torch.Tensor:
        s1, c1, g1, s2, c2, g2 = self.ada(F.silu(t_emb)).chunk(6, dim=-1)
        x = x + g1[:, None] * self.attn(modulate(self.norm1(x), s1, c1), cos, sin)
        x = x + self.cross(self.norm_cross(x), context, context_mask)
        return x + g2[:, None] * self.mlp(modulate(self.norm2(x), s2, c2))


class AlignerDiT(nn.Module):
    """v_θ({x_t^cls, x_t^reg, x_t^p}, t, C) → velocities {cls (B, 1, D), registers (B, R, D), patches (B, G², D)}."""

    def __init__(self, config: AlignerConfig) -> None:
        super().__init__()
        self.config = config
        w, r = config.width, config.registers
        self.embed = nn.ModuleDict({k: nn.Linear(config.token_dim, w) for k in GROUPS})
        self.cls_pos = nn.Parameter(torch.randn(1, 1, w) * 0.02)
        self.register_pos = nn.Parameter(torch.randn(1, r, w) * 0.02)
        # Rotary factors for the whole sequence (T, head_dim): identity for CLS + registers, 2D grid for
        # the patches (identity too without RoPE, which leaves the patches with no position signal).
        head_dim = config.head_dim
        cos_id, sin_id = identity_angles(1 + r, head_dim)
        if config.rope:
            cos_p, sin_p = rope_2d_angles(config.grid, config.grid, head_dim, config.rope_base)
        else:
            cos_p, sin_p = identity_angles(config.patches, head_dim)
        self.register_buffer("rope_cos", torch.cat([cos_id, cos_p]), persistent=False)
        self.register_buffer("rope_sin", torch.cat([sin_id, sin_p]), persistent=False)
        self.time = nn.Sequential(nn.Linear(w, w), nn.SiLU(), nn.Linear(w, w))
        self.cond_proj = nn.Linear(config.cond_dim, w)
        self.cond_norm = nn.LayerNorm(w)
        self.null = nn.Parameter(torch.randn(1, config.null_tokens, w) * 0.02)
        self.blocks = nn.ModuleList(AlignerBlock(w, config.heads, config.mlp_ratio, config.qk_norm)
                                    for _ in range(config.depth))
        self.final_norm = nn.LayerNorm(w, elementwise_affine=False)
        self.final_ada = nn.Linear(w, 2 * w)
        self.out = nn.ModuleDict({k: nn.Linear(w, config.token_dim) for k in GROUPS})
        for layer in (self.final_ada, *self.out.values()):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def null_context(self, batch: int, device: torch.device | str) -> tuple[torch.Tensor, torch.Tensor]:
        """The unconditional context (B, null_tokens, width) and its all-True mask."""
        null = self.cond_norm(self.null).expand(batch, -1, -1).to(device)
        return null, torch.ones(null.shape[:2], dtype=torch.bool, device=null.device)

    def context(self, cond: torch.Tensor, cond_mask: torch.Tensor | None = None,
                drop: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """LN(W·C): the projected condition (B, L, width) and its mask (B, L); rows where ``drop`` (B,)
        is True get the null sequence instead (both padded to a common length L, padding masked)."""
        b = cond.shape[0]
        ctx = self.cond_norm(self.cond_proj(cond))
        mask = (torch.ones(ctx.shape[:2], dtype=torch.bool, device=ctx.device) if cond_mask is None
                else cond_mask.to(device=ctx.device, dtype=torch.bool))
        if drop is None:
            return ctx, mask
        null, null_mask = self.null_context(b, ctx.device)
        length = max(ctx.shape[1], null.shape[1])
        ctx, null = (F.pad(z, (0, 0, 0, length - z.shape[1])) for z in (ctx, null))
        mask, null_mask = (F.pad(m, (0, length - m.shape[1])) for m in (mask, null_mask))
        drop = drop.to(device=ctx.device, dtype=torch.bool)
        return torch.where(drop.view(b, 1, 1), null, ctx), torch.where(drop.view(b, 1), null_mask, mask)

    def forward(self, x: dict[str, torch.Tensor], t: torch.Tensor, cond: torch.Tensor,
                cond_mask: torch.Tensor | None = None, drop: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Velocities of the three groups at time t (B,) ∈ [0, 1] (0 noise, 1 data), given C (B, s, cond_dim)."""
        config = self.config
        if x["patches"].shape[1] != config.patches or x["registers"].shape[1] != config.registers:
            raise ValueError(f"expected {config.registers} registers and {config.patches} patches, got "
                             f"{x['registers'].shape[1]} and {x['patches'].shape[1]}")
        h = torch.cat([self.embed["cls"](x["cls"]) + self.cls_pos,
                       self.embed["registers"](x["registers"]) + self.register_pos,
                       self.embed["patches"](x["patches"])], dim=1)  # (B, 1 + R + G², width)
        emb = self.time(timestep_embedding(t, config.width).to(h.dtype))
        ctx, ctx_mask = self.context(cond, cond_mask, drop)
        for block in self.blocks:
            h = block(h, emb, self.rope_cos, self.rope_sin, ctx, ctx_mask)
        shift, scale = self.final_ada(F.silu(emb)).chunk(2, dim=-1)
        h = modulate(self.final_norm(h), shift, scale)
        r = 1 + config.registers
        return {"cls": self.out["cls"](h[:, :1]), "registers": self.out["registers"](h[:, 1:r]),
                "patches": self.out["patches"](h[:, r:])}
