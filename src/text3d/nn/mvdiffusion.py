"""The embedded multi-view diffusion model: a text- and camera-conditioned denoiser of 4 views.

It stands in for the teachers of TriplaneTurbo (Ma et al., 2025): MVDream's (Shi et al., 2024)
multi-view diffusion, whose self-attention spans the tokens of all views ("3D self-attention")
and whose camera embedding conditions each view, and RichDreamer's (Qiu et al., 2024) normal
and depth prediction. Each view has 7 channels: RGB, world-space normal, depth (all in [−1, 1]).

Layout: each view (C, S, S) is cut into p×p patches (S²/p² tokens a view); a view's tokens get
the patch position table and the embedding of that view's camera (its flattened 4×4
camera-to-world matrix, as MVDream); the V·S²/p² tokens of all views then pass one DiT trunk
(adaLN-Zero self-attention over every view at once + cross-attention to the MiniLM token states
of the prompt), so views attend to each other. The output is the rectified-flow velocity
(:mod:`text3d.nn.flow`; flow time s = 1 is data, s = 0 noise) of every view.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from text3d.nn.blocks import DiTBlock, sincos_positions, timestep_embedding

CHANNELS = ("red", "green", "blue", "normal_x", "normal_y", "normal_z", "depth")
"""The 7 channels of a view, in order (RGB, RichDreamer's normal and depth)."""


@dataclass
class MVDiffusionConfig:
    """View count, size and channels; patch size; trunk size; condition widths."""

    views: int = 4
    image_size: int = 32
    channels: int = 7
    patch_size: int = 4
    width: int = 192
    depth: int = 6
    heads: int = 6
    text_dim: int = 384
    camera_dim: int = 16
    null_tokens: int = 4

    @property
    def grid(self) -> int:
        """Patches along one side of a view."""
        return self.image_size // self.patch_size

    def to_dict(self) -> dict:
        return asdict(self)


class MultiViewDiT(nn.Module):
    """v_θ(x_s, s, cameras, text): views (B, V, C, S, S) → velocity of the same shape."""

    def __init__(self, config: MVDiffusionConfig) -> None:
        super().__init__()
        if config.image_size % config.patch_size:
            raise ValueError(f"image size {config.image_size} is not a multiple of patch size {config.patch_size}")
        self.config = config
        w, p = config.width, config.patch_size
        self.patch = nn.Linear(config.channels * p * p, w)
        self.register_buffer("pos", sincos_positions(config.grid ** 2, w)[None, None], persistent=False)
        self.camera = nn.Sequential(nn.Linear(config.camera_dim, w), nn.SiLU(), nn.Linear(w, w))
        self.time = nn.Sequential(nn.Linear(w, w), nn.SiLU(), nn.Linear(w, w))
        self.text_proj = nn.Linear(config.text_dim, w)
        self.text_norm = nn.LayerNorm(w)
        self.null = nn.Parameter(torch.randn(1, config.null_tokens, w) * 0.02)
        self.pooled = nn.Linear(w, w)
        self.blocks = nn.ModuleList(DiTBlock(w, config.heads, w) for _ in range(config.depth))
        self.final_norm = nn.LayerNorm(w, elementwise_affine=False)
        self.final_ada = nn.Linear(w, 2 * w)
        self.out = nn.Linear(w, config.channels * p * p)
        for layer in (self.final_ada, self.out):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    # ------------------------------------------------------------------ condition
    def text_context(self, states: torch.Tensor, mask: torch.Tensor,
                     drop: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Project MiniLM states (B, L, 384) with mask (B, L); rows where ``drop`` is True get the
        learned null sequence (classifier-free guidance). Returns (context (B, L', w), mask (B, L'))."""
        ctx = self.text_norm(self.text_proj(states))
        mask = mask.bool()
        if drop is None:
            return ctx, mask
        null, null_mask = self.null_context(ctx.shape[0], ctx.device)
        width = max(ctx.shape[1], null.shape[1])
        pad = lambda c, m: (nn.functional.pad(c, (0, 0, 0, width - c.shape[1])),  # noqa: E731
                            nn.functional.pad(m, (0, width - m.shape[1])))
        ctx, mask = pad(ctx, mask)
        null, null_mask = pad(null, null_mask)
        return torch.where(drop.view(-1, 1, 1), null, ctx), torch.where(drop.view(-1, 1), null_mask, mask)

    def null_context(self, batch: int, device: torch.device | str) -> tuple[torch.Tensor, torch.Tensor]:
        """The unconditional context (B, null_tokens, w) and its all-true mask."""
        null = self.text_norm(self.null).expand(batch, -1, -1).to(device)
        return null, torch.ones(null.shape[:2], dtype=torch.bool, device=null.device)

    # ------------------------------------------------------------------ trunk
    def patchify(self, views: torch.Tensor) -> torch.Tensor:
        """(B, V, C, S, S) → (B, V, g², C·p²)."""
        b, v, c, s, _ = views.shape
        p, g = self.config.patch_size, s // self.config.patch_size
        x = views.reshape(b, v, c, g, p, g, p).permute(0, 1, 3, 5, 2, 4, 6)
        return x.reshape(b, v, g * g, c * p * p)

    def unpatchify(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, V, g², C·p²) → (B, V, C, S, S)."""
        b, v = tokens.shape[:2]
        p, g, c = self.config.patch_size, self.config.grid, self.config.channels
        x = tokens.reshape(b, v, g, g, c, p, p).permute(0, 1, 4, 2, 5, 3, 6)
        return x.reshape(b, v, c, g * p, g * p)

    def forward(self, x: torch.Tensor, s: torch.Tensor, cameras: torch.Tensor, context: torch.Tensor,
                context_mask: torch.Tensor) -> torch.Tensor:
        """Velocity for views ``x`` (B, V, C, S, S) at flow time ``s`` (B,), cameras (B, V, 16)
        (flattened camera-to-world matrices) and a projected text context (B, L, w)."""
        b, v = x.shape[:2]
        h = self.patch(self.patchify(x)) + self.pos + self.camera(cameras.to(x.dtype))[:, :, None]  # (B, V, g², w)
        h = h.reshape(b, v * h.shape[2], -1)  # all views in one sequence: 3D self-attention
        weights = context_mask.unsqueeze(-1).to(context.dtype)
        pooled = (context * weights).sum(1) / weights.sum(1).clamp_min(1.0)
        emb = self.time(timestep_embedding(s, self.config.width).to(h.dtype)) + self.pooled(pooled)
        for block in self.blocks:
            h = block(h, emb, context, context_mask)
        shift, scale = self.final_ada(nn.functional.silu(emb)).chunk(2, dim=-1)
        h = self.final_norm(h) * (1 + scale[:, None]) + shift[:, None]
        return self.unpatchify(self.out(h).reshape(b, v, self.config.grid ** 2, -1))


def camera_features(c2w: torch.Tensor) -> torch.Tensor:
    """Camera embedding input: (..., 4, 4) camera-to-world matrices → (..., 16), row-major."""
    return c2w.reshape(*c2w.shape[:-2], 16).float()


def velocity_to_x0(x_s: torch.Tensor, s: torch.Tensor, velocity: torch.Tensor) -> torch.Tensor:
    """Data estimate on the straight path: x̂₁ = x_s + (1 − s)·v (s broadcast over views)."""
    return x_s + (1 - s).view(-1, *[1] * (x_s.dim() - 1)) * velocity


@torch.no_grad()
def sample_views(model: MultiViewDiT, states: torch.Tensor, mask: torch.Tensor, cameras: torch.Tensor,
                 steps: int = 20, guidance: float = 3.0, generator: torch.Generator | None = None) -> torch.Tensor:
    """Views (B, V, C, S, S) from noise for MiniLM ``states`` (B, L, 384) / ``mask`` and camera
    features (B, V, 16): Euler integration of the guided flow in ``steps`` uniform steps."""
    from text3d.nn.flow import euler_sample

    c = model.config
    b = states.shape[0]
    context, context_mask = model.text_context(states, mask)
    null, null_mask = model.null_context(b, states.device)
    noise = torch.randn((b, c.views, c.channels, c.image_size, c.image_size), generator=generator,
                        device=states.device)

    def velocity(x: torch.Tensor, s: torch.Tensor, ctx: torch.Tensor, ctx_mask: torch.Tensor) -> torch.Tensor:
        return model(x, s, cameras.repeat(x.shape[0] // b, 1, 1), ctx, ctx_mask)  # CFG doubles the batch

    return euler_sample(velocity, noise, context, context_mask, null, null_mask, steps=steps, cfg=guidance)
