"""The flow transformer: a DiT over latent tokens with cross-attention to condition tokens.

Two condition modalities share the trunk: text tokens (all-MiniLM-L6-v2 states, 384-d)
and image-encoder tokens (embedded ViT CLS + registers + patches, 192-d; the path of GAP3D
(Gkotsi et al., 2026), which generates such tokens from a language model's latents).
Each has its own input projection and a learned "null" sequence used for classifier-free
guidance (condition dropout in training). The pooled condition (masked mean of the
projected tokens) joins the timestep embedding in the adaLN modulation.

The image path may carry an adapter: pre-norm self-attention blocks over the projected image
tokens, trained with the rest frozen (the decoupling of IP-Adapter (Ye et al., 2023)), so the
text path stays exactly what it was. Its residual branches start at zero, so a fresh adapter is
the identity.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from text3d.nn.blocks import DiTBlock, EncoderBlock, sincos_positions, timestep_embedding

MODALITIES = ("text", "image")


@dataclass
class DiTConfig:
    """Token count and width of the latent, trunk size, and condition widths."""

    tokens: int = 64
    token_dim: int = 16
    width: int = 256
    depth: int = 8
    heads: int = 8
    text_dim: int = 384
    image_dim: int = 192
    null_tokens: int = 4
    image_adapter: int = 0  # blocks of the image-token adapter (0: none)

    def to_dict(self) -> dict:
        return asdict(self)


class FlowDiT(nn.Module):
    """v_θ(x_t, t, condition): latent tokens (B, N, token_dim) → velocity of the same shape."""

    def __init__(self, config: DiTConfig) -> None:
        super().__init__()
        self.config = config
        w = config.width
        self.embed = nn.Linear(config.token_dim, w)
        self.register_buffer("pos", sincos_positions(config.tokens, w)[None], persistent=False)
        self.pos_learned = nn.Parameter(torch.zeros(1, config.tokens, w))
        self.time = nn.Sequential(nn.Linear(w, w), nn.SiLU(), nn.Linear(w, w))
        self.cond_proj = nn.ModuleDict({"text": nn.Linear(config.text_dim, w), "image": nn.Linear(config.image_dim, w)})
        self.cond_norm = nn.LayerNorm(w)
        self.null = nn.ParameterDict({m: nn.Parameter(torch.randn(1, config.null_tokens, w) * 0.02)
                                      for m in MODALITIES})
        self.image_adapter = nn.ModuleList(EncoderBlock(w, config.heads) for _ in range(config.image_adapter))
        for block in self.image_adapter:
            for layer in (block.attn.out, block.mlp.fc2):
                nn.init.zeros_(layer.weight)
                nn.init.zeros_(layer.bias)
        self.pooled = nn.Linear(w, w)
        self.blocks = nn.ModuleList(DiTBlock(w, config.heads, w) for _ in range(config.depth))
        self.final_norm = nn.LayerNorm(w, elementwise_affine=False)
        self.final_ada = nn.Linear(w, 2 * w)
        self.out = nn.Linear(w, config.token_dim)
        for layer in (self.final_ada, self.out):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def condition(self, tokens: torch.Tensor, mask: torch.Tensor | None, modality: str,
                  drop: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Project condition tokens; rows where ``drop`` is True get the null sequence.

        Returns (context (B, L', w), context mask (B, L')).
        """
        b = tokens.shape[0]
        ctx = self.cond_proj[modality](tokens)  # (B, L, w)
        if modality == "image":
            for block in self.image_adapter:
                ctx = block(ctx)
        ctx = self.cond_norm(ctx)
        if mask is None:
            mask = torch.ones(ctx.shape[:2], dtype=torch.bool, device=ctx.device)
        null = self.cond_norm(self.null[modality]).expand(b, -1, -1)
        null_mask = torch.ones(null.shape[:2], dtype=torch.bool, device=ctx.device)
        if drop is None:
            return ctx, mask.bool()
        width = max(ctx.shape[1], null.shape[1])
        ctx = nn.functional.pad(ctx, (0, 0, 0, width - ctx.shape[1]))
        mask = nn.functional.pad(mask.bool(), (0, width - mask.shape[1]))
        null = nn.functional.pad(null, (0, 0, 0, width - null.shape[1]))
        null_mask = nn.functional.pad(null_mask, (0, width - null_mask.shape[1]))
        d = drop.view(b, 1, 1)
        return torch.where(d, null, ctx), torch.where(drop.view(b, 1), null_mask, mask)

    def null_condition(self, batch: int, modality: str, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """The unconditional context (for classifier-free guidance)."""
        null = self.cond_norm(self.null[modality]).expand(batch, -1, -1).to(device)
        return null, torch.ones(null.shape[:2], dtype=torch.bool, device=device)

    def forward(self, x: torch.Tensor, t: torch.Tensor, context: torch.Tensor,
                context_mask: torch.Tensor) -> torch.Tensor:
        h = self.embed(x) + self.pos + self.pos_learned
        weights = context_mask.unsqueeze(-1).to(context.dtype)
        pooled = (context * weights).sum(1) / weights.sum(1).clamp_min(1.0)
        emb = self.time(timestep_embedding(t, self.config.width).to(h.dtype)) + self.pooled(pooled)
        for block in self.blocks:
            h = block(h, emb, context, context_mask)
        shift, scale = self.final_ada(nn.functional.silu(emb)).chunk(2, dim=-1)
        h = self.final_norm(h) * (1 + scale[:, None]) + shift[:, None]
        return self.out(h)
