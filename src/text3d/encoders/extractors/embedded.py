"""The embedded extractors: what ``text3d eval`` uses when no real model is installed.

* ``embedded`` — image features: the embedded ViT's final-norm CLS token (192-d), the
  FD_DINOv2 analogue; point features: the embedded PointNet's penultimate layer (128-d),
  the FD_PointNet++ analogue.
* ``embedded-clip`` — the CLIP-like joint space (256-d, unit norm): images through the ViT
  and its projection, texts through all-MiniLM-L6-v2 and the text projection; used for
  CLIP_user / CLIP_aug and R@K, like ``clip-vit-large-patch14``.

``weights`` is the folder of a trained image encoder (default: the shipped one); the
point encoder is read from the sibling ``point-encoder`` folder when present.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from text3d.encoders.base import FeatureExtractor, extractors


def _weights_id(folder: Path | None) -> str:
    if folder is None:
        return "untrained"
    from text3d.nn.checkpoint import weight_files

    sha = hashlib.sha1()
    for path in weight_files(folder):
        sha.update(path.read_bytes())
    digest = sha.hexdigest()[:16]
    return f"{folder.name}:{digest}"


@extractors.register("embedded")
class EmbeddedExtractor(FeatureExtractor):
    """Embedded ViT CLS features (images) and PointNet features (points)."""

    name = "embedded"
    modalities = frozenset({"image", "points"})
    dim = 192
    joint_space = False

    def __init__(self, weights: str | None = None, device: str | None = None) -> None:
        from text3d.encoders.embedded import EmbeddedImageEncoder, EmbeddedPointEncoder

        self.image = EmbeddedImageEncoder.from_pretrained(weights, device)
        sibling = Path(weights).parent / "point-encoder" if weights else None
        self.points = EmbeddedPointEncoder.from_pretrained(sibling if sibling and sibling.exists() else None, device)
        self.dim = self.image.config.width
        self.weights_id = f"{_weights_id(self.image.folder)}|{_weights_id(self.points.folder)}"

    def image_features(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Final-norm CLS tokens (N, 192)."""
        return self.image.features(list(images))[0].astype(np.float32)

    def point_features(self, clouds: Sequence[np.ndarray]) -> np.ndarray:
        """PointNet penultimate features (N, 128) of unit-sphere-normalized clouds."""
        return self.points.run([np.asarray(c)[:, :3] for c in clouds])[0].astype(np.float32)


@extractors.register("embedded-clip")
class EmbeddedClipExtractor(FeatureExtractor):
    """The CLIP-like joint image–text space of the embedded image encoder."""

    name = "embedded-clip"
    modalities = frozenset({"image", "text"})
    dim = 256
    joint_space = True

    def __init__(self, weights: str | None = None, device: str | None = None) -> None:
        from text3d.encoders.embedded import EmbeddedImageEncoder

        self.image = EmbeddedImageEncoder.from_pretrained(weights, device)
        self.dim = self.image.config.embed_dim
        self.weights_id = _weights_id(self.image.folder)

    def image_features(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Unit joint-space image embeddings (N, 256)."""
        return self.image.features(list(images))[1].astype(np.float32)

    def text_features(self, texts: Sequence[str]) -> np.ndarray:
        """Unit joint-space text embeddings (N, 256)."""
        return self.image.text_embeddings(list(texts)).astype(np.float32)
