"""Parameter-efficient triplane adaptation (PETA) of the frozen multi-view backbone.

TriplaneTurbo (Ma et al., 2025) turns Stable Diffusion into a triplane generator by keeping the
UNet frozen and training small adapters (2.5 % extra parameters). Here the frozen backbone is the
teacher's own :class:`~text3d.nn.mvdiffusion.MultiViewDiT`: its trunk already denoises V views of
g² patch tokens with self-attention across views, so the three planes XY, XZ, YZ enter as three
"views" (each seen by an axis-aligned camera whose features go through the frozen camera MLP):

* **plane head** (trainable in every mode): ``plane_in`` maps a plane patch (C·p² values) to a
  token and ``plane_out`` a token back (zero-initialized: a fresh student emits zero planes, which
  the triplane decoder reads as its prior sphere); they replace the RGB+normal+depth patch layers,
  as TriplaneTurbo's new input/output convolutions replace SD's latent ones;
* **LoRA** (Hu et al., 2022) of rank r on every attention projection of the trunk (self- and
  cross-attention q, kv, out): W x + (α/r)·B A x, B zero-initialized;
* **plane embeddings** (PETA only): one learned vector per plane added to its tokens;
* **cross-plane adapters** (PETA only), after every block: each plane token reads the other two
  planes along the world axes it shares with them (axis-wise mean pooling, as Rodin's
  (Wang et al., 2023) 3D-aware convolution), through a rank-r bottleneck whose up-projection is
  zero-initialized; this is the role of TriplaneTurbo's orthogonal cross-plane attention.

``mode`` selects the comparison rows of the paper's Table 3: ``"peta"`` (all of the above),
``"lora"`` (basic LoRA: plane head + LoRA) and ``"full"`` (plane head + every backbone weight
trained).
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from text3d.errors import InputError
from text3d.nn.blocks import Attention, timestep_embedding
from text3d.nn.mvdiffusion import MultiViewDiT

MODES = ("peta", "lora", "full")
PLANES = 3


@dataclass
class PETAConfig:
    """Adaptation mode and adapter sizes."""

    mode: str = "peta"
    plane_channels: int = 8     # C of each plane
    lora_rank: int = 4
    lora_alpha: float = 4.0     # LoRA scale α / r
    cross_rank: int = 8         # bottleneck of the cross-plane adapters

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InputError(f"adaptation mode {self.mode!r}: use {', '.join(MODES)}")
        if self.plane_channels < 1 or self.lora_rank < 1 or self.cross_rank < 1:
            raise InputError(f"PETA config {self}: channels and ranks must be positive")

    def to_dict(self) -> dict:
        return asdict(self)


class LoRALinear(nn.Module):
    """y = W x + b + (α/r)·B(A x): the frozen ``base`` plus a rank-r update (B starts at 0)."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float) -> None:
        super().__init__()
        self.base = base.requires_grad_(False)
        self.down = nn.Parameter(torch.empty(rank, base.in_features))
        self.up = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.down, a=math.sqrt(5))
        self.scale = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + self.scale * ((x @ self.down.T) @ self.up.T)


def add_lora(module: nn.Module, rank: int, alpha: float) -> int:
    """Wrap every q / kv / out projection of the :class:`Attention` layers under ``module`` in a
    :class:`LoRALinear`; returns how many were wrapped."""
    count = 0
    for attention in [m for m in module.modules() if isinstance(m, Attention)]:
        for name in ("q", "kv", "out"):
            setattr(attention, name, LoRALinear(getattr(attention, name), rank, alpha))
            count += 1
    return count


class CrossPlaneAdapter(nn.Module):
    """Tokens (B, 3·g², w) of planes XY, XZ, YZ (plane[row, col] ↔ (axis₁, axis₀) = (y, x), (z, x),
    (z, y)) → a residual of the same shape: each token gets the down-projected column / row means
    of the two other planes at its own coordinates along the shared axes, projected back up."""

    def __init__(self, width: int, rank: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.down = nn.Linear(width, rank)
        self.up = nn.Linear(2 * rank, width)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, h: torch.Tensor, grid: int) -> torch.Tensor:
        b = h.shape[0]
        d = self.down(self.norm(h)).view(b, PLANES, grid, grid, -1)  # (B, 3, row, col, r)
        col = d.mean(dim=2)  # (B, 3, g, r): a function of each plane's axis₀ (x, x, y)
        row = d.mean(dim=3)  # (B, 3, g, r): a function of its axis₁ (y, z, z)
        xy = _lines(col[:, 1], col[:, 2])  # token (y, x) of XY: x from XZ's columns, y from YZ's columns
        xz = _lines(col[:, 0], row[:, 2])  # token (z, x) of XZ: x from XY's columns, z from YZ's rows
        yz = _lines(row[:, 0], row[:, 1])  # token (z, y) of YZ: y from XY's rows, z from XZ's rows
        return self.up(torch.stack([xy, xz, yz], dim=1)).reshape(h.shape)


def _lines(by_column: torch.Tensor, by_row: torch.Tensor) -> torch.Tensor:
    """(B, g, r) indexed by a token's column ⊕ (B, g, r) indexed by its row → (B, g, g, 2r)."""
    b, g, r = by_column.shape
    return torch.cat([by_column[:, None].expand(b, g, g, r), by_row[:, :, None].expand(b, g, g, r)], dim=-1)


class PETABackbone(nn.Module):
    """ẑ = f(z_s, s, text): planes (B, 3, C, R, R) at flow time s (B,) → planes, through a frozen
    copy of a :class:`MultiViewDiT` (R = its image size) with the adapters of ``config.mode``."""

    def __init__(self, backbone: MultiViewDiT, config: PETAConfig, plane_cameras: torch.Tensor) -> None:
        super().__init__()
        self.config = config
        self.trunk = copy.deepcopy(backbone)
        self.trunk.requires_grad_(config.mode == "full")
        b = self.trunk.config
        width, p = b.width, b.patch_size
        if plane_cameras.shape != (PLANES, b.camera_dim):
            raise InputError(f"plane cameras of shape {tuple(plane_cameras.shape)}: expected ({PLANES}, "
                             f"{b.camera_dim})")
        self.register_buffer("plane_cameras", plane_cameras.float())
        self.plane_in = nn.Linear(config.plane_channels * p * p, width)
        self.plane_out = nn.Linear(width, config.plane_channels * p * p)
        nn.init.zeros_(self.plane_out.weight)
        nn.init.zeros_(self.plane_out.bias)
        if config.mode != "full":
            add_lora(self.trunk.blocks, config.lora_rank, config.lora_alpha)
        if config.mode == "peta":
            self.plane_embed = nn.Parameter(torch.zeros(PLANES, width))
            self.cross = nn.ModuleList(CrossPlaneAdapter(width, config.cross_rank) for _ in range(b.depth))

    @property
    def resolution(self) -> int:
        """Texels per plane side (the backbone's view size)."""
        return self.trunk.config.image_size

    def patchify(self, planes: torch.Tensor) -> torch.Tensor:
        """(B, 3, C, R, R) → (B, 3, g², C·p²)."""
        return self.trunk.patchify(planes)

    def unpatchify(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, 3, g², C·p²) → (B, 3, C, R, R)."""
        b = tokens.shape[0]
        p, g, c = self.trunk.config.patch_size, self.trunk.config.grid, self.config.plane_channels
        x = tokens.reshape(b, PLANES, g, g, c, p, p).permute(0, 1, 4, 2, 5, 3, 6)
        return x.reshape(b, PLANES, c, g * p, g * p)

    def forward(self, z: torch.Tensor, s: torch.Tensor, context: torch.Tensor,
                context_mask: torch.Tensor) -> torch.Tensor:
        """Clean-plane estimate for noisy planes ``z`` (B, 3, C, R, R) at flow time ``s`` (B,) given a
        projected text context (B, L, w) (:meth:`MultiViewDiT.text_context`)."""
        t = self.trunk
        b, g = z.shape[0], t.config.grid
        if z.shape[1:] != (PLANES, self.config.plane_channels, self.resolution, self.resolution):
            raise InputError(f"planes of shape {tuple(z.shape)}: the student takes (B, {PLANES}, "
                             f"{self.config.plane_channels}, {self.resolution}, {self.resolution})")
        h = self.plane_in(self.patchify(z)) + t.pos + t.camera(self.plane_cameras)[None, :, None]  # (B, 3, g², w)
        if self.config.mode == "peta":
            h = h + self.plane_embed[None, :, None]
        h = h.reshape(b, PLANES * g * g, -1)  # the three planes attend to each other like views
        weights = context_mask.unsqueeze(-1).to(context.dtype)
        pooled = (context * weights).sum(1) / weights.sum(1).clamp_min(1.0)
        emb = t.time(timestep_embedding(s, t.config.width).to(h.dtype)) + t.pooled(pooled)
        for i, block in enumerate(t.blocks):
            h = block(h, emb, context, context_mask)
            if self.config.mode == "peta":
                h = h + self.cross[i](h, g)
        shift, scale = t.final_ada(nn.functional.silu(emb)).chunk(2, dim=-1)
        h = t.final_norm(h) * (1 + scale[:, None]) + shift[:, None]
        return self.unpatchify(self.plane_out(h).reshape(b, PLANES, g * g, -1))


def parameter_counts(module: nn.Module) -> dict[str, int]:
    """{"trainable", "frozen", "total"} parameter counts of ``module``."""
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    total = sum(p.numel() for p in module.parameters())
    return {"trainable": trainable, "frozen": total - trainable, "total": total}
