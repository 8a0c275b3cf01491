"""``dinov2-vitl14``: DINOv2 ViT-L/14 image features as dgm-eval computes FD_DINOv2.

Each image is resized to 224×224 with bicubic interpolation (no crop), scaled to [0, 1],
normalized with the ImageNet mean/std, and the feature is the CLS token after the final
layer norm (``Dinov2Model(...).pooler_output``, which equals torch-hub DINOv2's
``x_norm_clstoken``), 1024-d for ViT-L/14. ``facebook/dinov2-large`` holds the same weights
as torch-hub's ``dinov2_vitl14``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from text3d.device import resolve_device
from text3d.encoders.base import (
    FeatureExtractor,
    extractors,
    resolve_weights,
    stack_features,
)
from text3d.encoders.hf import hf_weights_id, load_pretrained
from text3d.encoders.preprocess import IMAGENET_MEAN, IMAGENET_STD, batches, normalize_batch, to_rgb_uint8

HUB_ID = "facebook/dinov2-large"
ENV_VAR = "TEXT3D_WEIGHTS_DINOV2"
IMAGE_SIZE = 224


@extractors.register("dinov2-vitl14")
class Dinov2ViTL14Extractor(FeatureExtractor):
    """DINOv2 ViT-L/14 final-norm CLS features at 224 px through ``transformers.Dinov2Model``."""

    name = "dinov2-vitl14"
    modalities = frozenset({"image"})
    dim = 1024
    joint_space = False

    def __init__(self, weights: str | None = None, device: str | None = None, batch_size: int = 32,
                 image_size: int = IMAGE_SIZE) -> None:
        from transformers import Dinov2Model

        source = resolve_weights(weights, ENV_VAR, HUB_ID)
        self.device = resolve_device(device)
        self.model = load_pretrained(Dinov2Model, source, self.name, HUB_ID, ENV_VAR).to(self.device).eval()
        self.dim = int(self.model.config.hidden_size)
        self.image_size = image_size
        self.batch_size = batch_size
        self.weights_id = f"{hf_weights_id(source)}|{image_size}px"

    def preprocess(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """uint8 RGB images → (N, 3, 224, 224) float32, bicubic resize + ImageNet normalization."""
        resized = [Image.fromarray(to_rgb_uint8(img)).resize((self.image_size, self.image_size), Image.BICUBIC)
                   for img in images]
        return normalize_batch(resized, IMAGENET_MEAN, IMAGENET_STD)

    def image_features(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Final-layer-norm CLS tokens, (N, 1024) for ViT-L/14."""
        import torch

        chunks = []
        with torch.inference_mode():
            for part in batches(len(images), self.batch_size):
                pixels = torch.from_numpy(self.preprocess(images[part])).to(self.device)
                chunks.append(self.model(pixel_values=pixels).pooler_output.float().cpu().numpy())
        return stack_features(chunks, self.dim)
