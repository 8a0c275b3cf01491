"""DINOv2 with registers (Darcet et al., 2024) as GAP3D's target encoder: images → [CLS, registers, patches].

GAP3D (Gkotsi et al., 2026), §5.1.2, targets ``dinov2-vitl14-reg`` at 518 × 518: one CLS token, 4
registers and a 37 × 37 patch grid, each 1024 wide — the 1 + 4 + 1369 = 1374 × 1024 tokens TRELLIS-image
conditions on (:class:`text3d.generators.backends.trellis.TrellisImageGenerator`). The tokens here are
computed the way TRELLIS's image pipeline computes its condition, so that generated tokens can replace
them one for one:

* the image is resized to 518 × 518 with Lanczos, scaled to [0, 1] and normalised with the ImageNet
  mean/std;
* the encoder's *pre-norm* tokens are read (the last block's output before the model's final
  LayerNorm, torch-hub DINOv2's ``x_prenorm``), in the order [CLS, registers, patches];
* a LayerNorm over channels *without* affine parameters (``F.layer_norm``, eps 1e-5) is applied — not
  the model's own affine final norm — so every token has zero mean and unit variance across channels.

TRELLIS's ``preprocess_image`` (background removal, crop to the object) is the caller's job; an RGBA
image is premultiplied onto black, as that step leaves it. Weights load offline through
:func:`text3d.encoders.hf.load_pretrained` (``Dinov2WithRegistersModel``, default
``facebook/dinov2-with-registers-large``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from text3d.device import resolve_device
from text3d.encoders.base import resolve_weights
from text3d.encoders.hf import hf_weights_id, load_pretrained
from text3d.encoders.preprocess import IMAGENET_MEAN, IMAGENET_STD, to_rgb_uint8
from text3d.errors import InputError
from text3d.nn.aligner import GROUPS, AlignerConfig, TokenCounts

log = logging.getLogger(__name__)

NAME = "dinov2-reg-vitl14"
HUB_ID = "facebook/dinov2-with-registers-large"
ENV_VAR = "TEXT3D_WEIGHTS_DINOV2_REG"
IMAGE_SIZE = 518
LAYER_NORM_EPS = 1e-5  # F.layer_norm's default, which TRELLIS uses


@dataclass(frozen=True)
class TokenLayout(TokenCounts):
    """An image encoder's token sequence [CLS (1), registers (R), patches (G × G)], each ``token_dim`` wide."""

    registers: int
    grid: int
    token_dim: int

    def aligner_sizes(self) -> dict[str, int]:
        """The :class:`~text3d.nn.aligner.AlignerConfig` fields fixed by the target: grid, registers, token_dim."""
        return {"grid": self.grid, "registers": self.registers, "token_dim": self.token_dim}


def token_layout(config: Any, image_size: int | None = None) -> TokenLayout:
    """Layout of a ViT-with-registers config (``Dinov2WithRegistersConfig`` or alike) at ``image_size`` px
    (default: the config's); e.g. ViT-L/14-reg at 518 px → 4 registers, grid 37, width 1024."""
    size = int(image_size or config.image_size)
    patch = int(config.patch_size)
    if size % patch:
        raise InputError(f"image size {size} is not a multiple of the patch size {patch}")
    return TokenLayout(registers=int(getattr(config, "num_register_tokens", 0)), grid=size // patch,
                       token_dim=int(config.hidden_size))


def aligner_config(layout: TokenLayout, cond_dim: int, **trunk: Any) -> AlignerConfig:
    """An :class:`AlignerConfig` generating ``layout``'s tokens from a condition C (B, s, cond_dim);
    ``trunk`` sets the remaining fields (width, depth, heads, …)."""
    return AlignerConfig(**layout.aligner_sizes(), cond_dim=int(cond_dim), **trunk)


def split_groups(tokens: torch.Tensor, layout: TokenLayout) -> dict[str, torch.Tensor]:
    """(B, 1 + R + G², D) → {cls (B, 1, D), registers (B, R, D), patches (B, G², D)}."""
    if tokens.dim() != 3 or tokens.shape[1] != layout.tokens or tokens.shape[2] != layout.token_dim:
        raise InputError(f"expected tokens (B, {layout.tokens}, {layout.token_dim}), got {tuple(tokens.shape)}")
    r = 1 + layout.registers
    return {"cls": tokens[:, :1], "registers": tokens[:, 1:r], "patches": tokens[:, r:]}


def join_groups(groups: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """{cls (B, 1, D), registers (B, R, D), patches (B, G², D)} → (B, 1 + R + G², D), the encoder's order."""
    return torch.cat([groups[k] for k in GROUPS], dim=1)


class Dinov2RegTarget:
    """Images → TRELLIS-style DINOv2-with-registers condition tokens (B, 1 + R + G², D) through
    ``transformers.Dinov2WithRegistersModel``; (B, 1374, 1024) for the default ViT-L/14-reg at 518 px."""

    name = NAME

    def __init__(self, model: Any, image_size: int | None = None, batch_size: int = 16,
                 device: torch.device | str | None = None, weights_id: str = "") -> None:
        self.model = model.eval().requires_grad_(False)
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        self.layout = token_layout(model.config, image_size)
        self.image_size = self.layout.grid * int(model.config.patch_size)
        self.batch_size = batch_size
        self.weights_id = weights_id

    @classmethod
    def from_pretrained(cls, weights: str | None = None, device: str | None = None, image_size: int | None = None,
                        batch_size: int = 16) -> "Dinov2RegTarget":
        """Load ``weights`` (a folder or a cached hub id; else ``$TEXT3D_WEIGHTS_DINOV2_REG``, else
        ``facebook/dinov2-with-registers-large``) without downloading; missing weights raise one line."""
        from transformers import Dinov2WithRegistersModel

        source = resolve_weights(weights, ENV_VAR, HUB_ID)
        dev = resolve_device(device)
        model = load_pretrained(Dinov2WithRegistersModel, source, NAME, HUB_ID, ENV_VAR, local_files_only=True)
        target = cls(model.to(dev), image_size=image_size, batch_size=batch_size, device=dev)
        target.weights_id = f"{hf_weights_id(source)}|{target.image_size}px"
        log.info("loaded %s from %s (%d tokens × %d)", NAME, source, target.layout.tokens, target.layout.token_dim)
        return target

    def preprocess(self, images: Sequence[Any]) -> torch.Tensor:
        """uint8 images, any size → (N, 3, S, S) float32: Lanczos resize to S, [0, 1], ImageNet mean/std."""
        from PIL import Image

        size = self.image_size
        batch = []
        for image in images:
            rgb = to_rgb_uint8(np.asarray(image), background=0.0)  # alpha premultiplied onto black
            resized = Image.fromarray(rgb).resize((size, size), Image.LANCZOS)
            pixels = np.asarray(resized, np.float32) / 255.0
            batch.append(((pixels - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1))
        if not batch:
            return torch.zeros(0, 3, size, size)
        return torch.from_numpy(np.ascontiguousarray(np.stack(batch), dtype=np.float32))

    def tokens_from_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) normalised pixels → non-affine-LayerNorm-ed pre-norm tokens (N, 1 + R + G², D) float32."""
        with torch.inference_mode():
            out = self.model(pixel_values=pixels.to(self.device, self.model.dtype), output_hidden_states=True)
            prenorm = out.hidden_states[-1].float()  # the last block's output, before the model's final norm
            return F.layer_norm(prenorm, prenorm.shape[-1:], eps=LAYER_NORM_EPS)

    def tokens(self, images: Sequence[Any]) -> torch.Tensor:
        """uint8 images → target tokens (N, 1 + R + G², D) float32 on the model's device, [CLS, registers, patches]."""
        if not len(images):
            return torch.zeros(0, self.layout.tokens, self.layout.token_dim, device=self.device)
        chunks = [self.tokens_from_pixels(self.preprocess(images[i:i + self.batch_size]))
                  for i in range(0, len(images), self.batch_size)]
        return torch.cat(chunks)

    def groups(self, images: Sequence[Any]) -> dict[str, torch.Tensor]:
        """uint8 images → the aligner's x₁: {cls (N, 1, D), registers (N, R, D), patches (N, G², D)}."""
        return split_groups(self.tokens(images), self.layout)
