"""``clip-vit-large-patch14``: OpenAI CLIP ViT-L/14 image and text embeddings (transformers).

Image features are the projected image embeddings (``get_image_features``, 768-d), text
features the projected text embeddings of at most 77 tokens; both live in one space, so
100·cos between them is the CLIP score. Preprocessing follows the model's
``preprocessor_config.json`` (bicubic resize of the shorter side, centre crop, CLIP mean/std)
with Pillow.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from text3d.device import resolve_device
from text3d.encoders.base import (
    FeatureExtractor,
    extractors,
    resolve_weights,
    stack_features,
)
from text3d.encoders.hf import hf_weights_id, load_pretrained, read_json_file
from text3d.encoders.preprocess import (
    OPENAI_CLIP_MEAN,
    OPENAI_CLIP_STD,
    batches,
    normalize_batch,
    resize_shortest_edge_and_crop,
)

HUB_ID = "openai/clip-vit-large-patch14"
ENV_VAR = "TEXT3D_WEIGHTS_CLIP"


def _size(value: object, default: int) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        return int(value.get("shortest_edge") or value.get("height") or default)
    return default


@extractors.register("clip-vit-large-patch14")
class ClipViTLargeExtractor(FeatureExtractor):
    """CLIP ViT-L/14 (``openai/clip-vit-large-patch14``) through ``transformers.CLIPModel``."""

    name = "clip-vit-large-patch14"
    modalities = frozenset({"image", "text"})
    dim = 768
    joint_space = True

    def __init__(self, weights: str | None = None, device: str | None = None, batch_size: int = 32) -> None:
        from transformers import AutoTokenizer, CLIPModel

        source = resolve_weights(weights, ENV_VAR, HUB_ID)
        self.device = resolve_device(device)
        self.model = load_pretrained(CLIPModel, source, self.name, HUB_ID, ENV_VAR).to(self.device).eval()
        self.tokenizer = load_pretrained(AutoTokenizer, source, self.name, HUB_ID, ENV_VAR)
        config = read_json_file(source, "preprocessor_config.json")
        vision_size = int(self.model.config.vision_config.image_size)
        self.resize_to = _size(config.get("size"), vision_size)
        self.crop_to = _size(config.get("crop_size"), vision_size)
        self.mean = tuple(config.get("image_mean", OPENAI_CLIP_MEAN))
        self.std = tuple(config.get("image_std", OPENAI_CLIP_STD))
        self.max_tokens = int(self.model.config.text_config.max_position_embeddings)
        self.dim = int(self.model.config.projection_dim)
        self.batch_size = batch_size
        self.weights_id = hf_weights_id(source)

    @staticmethod
    def _pooled(output: object) -> torch.Tensor:  # noqa: F821
        return output if hasattr(output, "shape") else output.pooler_output  # transformers 4 vs 5

    def image_features(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Projected CLIP image embeddings, (N, 768) for ViT-L/14."""
        import torch

        chunks = []
        with torch.inference_mode():
            for part in batches(len(images), self.batch_size):
                crops = [resize_shortest_edge_and_crop(img, self.resize_to, self.crop_to) for img in images[part]]
                pixels = torch.from_numpy(normalize_batch(crops, self.mean, self.std)).to(self.device)
                output = self.model.get_image_features(pixel_values=pixels)
                chunks.append(self._pooled(output).float().cpu().numpy())
        return stack_features(chunks, self.dim)

    def text_features(self, texts: Sequence[str]) -> np.ndarray:
        """Projected CLIP text embeddings (texts truncated to the model's 77 tokens)."""
        import torch

        chunks = []
        with torch.inference_mode():
            for part in batches(len(texts), self.batch_size):
                tokens = self.tokenizer(list(texts[part]), padding=True, truncation=True,
                                        max_length=self.max_tokens, return_tensors="pt")
                output = self.model.get_text_features(input_ids=tokens["input_ids"].to(self.device),
                                                      attention_mask=tokens["attention_mask"].to(self.device))
                chunks.append(self._pooled(output).float().cpu().numpy())
        return stack_features(chunks, self.dim)
