"""``clip``: the CLIP-like score as an evaluator with one dimension, ``alignment``:
100·cos(image embedding of a view, text embedding of the prompt), averaged over the views.

``model``: "embedded" (default; the embedded image encoder on 64² views, texts through
all-MiniLM-L6-v2 and its learned projection) or "clip-vit-large-patch14" / a local CLIP folder
(CLIP ViT-L/14 through transformers; the gradient reaches CLIP's input token embeddings through
a forward hook on its token-embedding layer, since ``get_text_features`` takes ids only).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from text3d.device import resolve_device
from text3d.eval.evaluators.base import Evaluator, evaluators
from text3d.eval.evaluators.minilm_text import minilm_embed

REAL_CLIP = "clip-vit-large-patch14"


@evaluators.register("clip")
class ClipEvaluator(Evaluator):
    """CLIP score over the views; ``image_encoder`` (an EmbeddedImageEncoder) replaces the folder."""

    name = "clip"
    scale = "CLIP score (100·cos)"
    dimensions = ("alignment",)

    @classmethod
    def weights_sha256(cls, model: str | None = None) -> str | None:
        """The embedded image encoder's digest; None for CLIP ViT-L/14 (weights of its own release)."""
        from text3d.encoders.embedded import IMAGE_ENCODER
        from text3d.nn.checkpoint import local_weights_sha256

        if model is not None and (str(model) == REAL_CLIP or _is_clip_folder(Path(str(model)))):
            return None
        return local_weights_sha256(None if model == "embedded" else model, IMAGE_ENCODER)

    def __init__(self, model: str | Path | None = None, device: str | None = None, image_encoder=None) -> None:
        self.device = resolve_device(device)
        self.real = model is not None and (str(model) == REAL_CLIP or _is_clip_folder(Path(str(model))))
        if self.real:
            from text3d.encoders.extractors.clip_vit_large import ClipViTLargeExtractor

            self.clip = ClipViTLargeExtractor(None if str(model) == REAL_CLIP else str(model), str(self.device))
            return
        from text3d.encoders.embedded import EmbeddedImageEncoder
        from text3d.encoders.minilm import shared_text_encoder

        self.image_encoder = image_encoder or EmbeddedImageEncoder.from_pretrained(
            None if model in (None, "embedded") else model, str(self.device))
        self.text_encoder = shared_text_encoder(str(self.device))

    def _image_embeddings(self, views: np.ndarray):
        """Unit image embeddings (D, V, E) tensor of D view sets (V, S, S, C); the RGB channels are read
        (views another evaluator rendered may carry normal maps after them)."""
        import torch

        flat = list(views[..., :3].reshape(-1, *views.shape[2:4], 3))
        if self.real:
            feats = self.clip.image_features(flat)
            feats = feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)
        else:
            feats = self.image_encoder.features(flat)[1]
        return torch.from_numpy(np.ascontiguousarray(feats)).reshape(views.shape[0], views.shape[1], -1)

    def _embed(self, prompt: str) -> tuple:
        if not self.real:
            return minilm_embed(self.text_encoder, prompt)
        tokens = self.clip.tokenizer([prompt], truncation=True, max_length=self.clip.max_tokens, return_tensors="pt")
        ids = tokens["input_ids"].to(self.device)
        embeddings = self.clip.model.text_model.embeddings.token_embedding(ids).detach()
        pieces = self.clip.tokenizer.convert_ids_to_tokens(ids[0].tolist())
        self._ids = ids
        return embeddings, tokens["attention_mask"].to(self.device), pieces

    def _text_embedding(self, embeddings, mask):
        """Unit text embedding (1, E) from input token embeddings (1, L, E_tok)."""
        import torch.nn.functional as F

        if not self.real:
            from text3d.encoders.minilm import mean_pool

            states = self.text_encoder.forward_embeddings(embeddings, mask)[0]
            return self.image_encoder.model.encode_text(mean_pool(states, mask))
        layer = self.clip.model.text_model.embeddings.token_embedding
        handle = layer.register_forward_hook(lambda module, inputs, output: embeddings)
        try:
            output = self.clip.model.get_text_features(input_ids=self._ids, attention_mask=mask)
        finally:
            handle.remove()
        return F.normalize(self.clip._pooled(output), dim=-1)

    def _score_embeddings(self, views: np.ndarray, embeddings, mask):
        """100·mean_v cos(image_v, text): (D, 1)."""
        images = self._image_embeddings(views).to(embeddings.dtype)  # (D, V, E)
        text = self._text_embedding(embeddings, mask)  # (1, E)
        return 100.0 * (images * text[:, None]).sum(-1).mean(dim=1, keepdim=True)


def _is_clip_folder(folder: Path) -> bool:
    import json

    try:
        return json.loads((folder / "config.json").read_text()).get("model_type") == "clip"
    except (OSError, ValueError):
        return False
