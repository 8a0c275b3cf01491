"""A small Vision Transformer with a CLS token and register tokens (DINOv2-with-registers
layout: [CLS, reg_1..reg_R, patch_1..patch_P]), and the CLIP-like model built on it."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from text3d.nn.blocks import EncoderBlock

PIXEL_MEAN = 0.5
PIXEL_STD = 0.25


@dataclass
class ViTConfig:
    """Shape of the embedded image encoder and its heads."""

    image_size: int = 64
    patch_size: int = 8
    width: int = 192
    depth: int = 6
    heads: int = 6
    registers: int = 4
    embed_dim: int = 256
    text_dim: int = 384
    categories: int = 45
    colors: int = 12

    @property
    def patches(self) -> int:
        return (self.image_size // self.patch_size) ** 2

    @property
    def tokens(self) -> int:
        return 1 + self.registers + self.patches

    def to_dict(self) -> dict:
        return asdict(self)


class ViT(nn.Module):
    """Images (B, 3, S, S), normalized → final-norm tokens (B, 1 + R + P, width)."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        self.config = config
        w = config.width
        self.patch_embed = nn.Conv2d(3, w, config.patch_size, stride=config.patch_size)
        self.cls = nn.Parameter(torch.zeros(1, 1, w))
        self.registers = nn.Parameter(torch.zeros(1, config.registers, w))
        self.pos = nn.Parameter(torch.randn(1, config.tokens, w) * 0.02)
        self.blocks = nn.ModuleList(EncoderBlock(w, config.heads) for _ in range(config.depth))
        self.norm = nn.LayerNorm(w)
        nn.init.normal_(self.cls, std=0.02)
        nn.init.normal_(self.registers, std=0.02)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        b = images.shape[0]
        patches = self.patch_embed(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(b, -1, -1), self.registers.expand(b, -1, -1), patches], dim=1) + self.pos
        for block in self.blocks:
            x = block(x)
        return self.norm(x)


class ImageTextModel(nn.Module):
    """The CLIP-like model: ViT + image projection, a text projection on frozen MiniLM
    sentence vectors, a learned temperature, and category / color heads on the CLS token."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        self.config = config
        self.vit = ViT(config)
        self.image_proj = nn.Linear(config.width, config.embed_dim)
        self.text_proj = nn.Sequential(nn.Linear(config.text_dim, 512), nn.GELU(), nn.Linear(512, config.embed_dim))
        self.logit_scale = nn.Parameter(torch.tensor(2.659))  # log(1 / 0.07)
        self.category_head = nn.Linear(config.width, config.categories)
        self.color_head = nn.Linear(config.width, config.colors)

    def encode_image(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(tokens (B, T, width), unit joint-space embedding (B, embed_dim))."""
        tokens = self.vit(images)
        return tokens, F.normalize(self.image_proj(tokens[:, 0]), dim=-1)

    def encode_text(self, sentence_vectors: torch.Tensor) -> torch.Tensor:
        """MiniLM sentence vectors (B, 384) → unit joint-space embeddings (B, embed_dim)."""
        return F.normalize(self.text_proj(sentence_vectors), dim=-1)


def preprocess_images(images: list, size: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 RGB(A) arrays (H, W, C) of any size → normalized (B, 3, size, size) float tensor.

    Alpha is composited over white; resizing uses area averaging (antialiased) when
    shrinking and bilinear interpolation when enlarging.
    """
    import numpy as np

    batch = []
    for image in images:
        array = np.asarray(image)
        if array.ndim == 2:
            array = np.repeat(array[..., None], 3, axis=2)
        x = torch.from_numpy(array.astype(np.float32)) / 255.0  # a copy: read-only inputs stay untouched
        if x.shape[2] == 4:
            alpha = x[..., 3:4]
            x = x[..., :3] * alpha + (1.0 - alpha)
        x = x[..., :3].permute(2, 0, 1)[None]
        if x.shape[-1] != size or x.shape[-2] != size:
            mode = "area" if x.shape[-1] > size else "bilinear"
            x = F.interpolate(x, size=(size, size), mode=mode, **({} if mode == "area" else {"align_corners": False}))
        batch.append(x[0])
    out = torch.stack(batch).to(device)
    return (out - PIXEL_MEAN) / PIXEL_STD
