"""The embedded image and point encoders (trained by ``text3d train encoders``).

Image encoder: a 64-px ViT with CLS + 4 registers + 8×8 patch tokens. It gives (a) a
CLIP-like image–text score, 100·cos(image, text) in a joint space where texts go through
all-MiniLM-L6-v2 and a learned projection; (b) final-norm CLS features (192-d) for FD;
(c) the whole token sequence (69 × 192) for image conditioning.
Point encoder: PointNet over points normalized to the unit sphere; 128-d penultimate
features for FD_PointNet and category predictions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from text3d.device import resolve_device
from text3d.encoders.minilm import shared_text_encoder
from text3d.errors import InputError
from text3d.nn.checkpoint import load_folder, resolve_model_folder
from text3d.nn.pointnet import PointNet, PointNetConfig
from text3d.nn.vit import ImageTextModel, ViTConfig, preprocess_images
from text3d.render.points import normalize_to_unit_sphere

IMAGE_ENCODER = "image-encoder"
POINT_ENCODER = "point-encoder"
POINT_BATCH = 8
"""Clouds per PointNet forward: on 2 cores 8 clouds of 1,024 points run ~1.4× faster per cloud
than 32 or 64 (the activations stay in cache), with bit-identical features."""



@contextmanager
def _foreign_folder(folder: Path, kind: str) -> Iterator[None]:
    """Turn the errors of building a model from another model's folder into one line naming it."""
    try:
        yield
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        detail = (str(exc).strip().splitlines() or [""])[0][:100]
        raise InputError(f"{folder}: not {kind} folder (its config.json and weights are another model's: "
                         f"{type(exc).__name__} {detail})") from None

class EmbeddedImageEncoder:
    """Inference wrapper of :class:`text3d.nn.vit.ImageTextModel`."""

    def __init__(self, model, device, folder: Path | None = None) -> None:
        self.model = model.eval().requires_grad_(False)
        self.device = device
        self.folder = folder
        self.config = model.config

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path | None = None,
                        device: str | None = None) -> "EmbeddedImageEncoder":
        folder = resolve_model_folder(name_or_path, IMAGE_ENCODER)
        state, config = load_folder(folder)
        with _foreign_folder(folder, "an embedded image encoder"):
            model = ImageTextModel(ViTConfig(**config["model"]))
            model.load_state_dict(state)
        dev = resolve_device(device)
        return cls(model.to(dev), dev, folder)

    def _batches(self, images: Sequence[np.ndarray], batch_size: int):
        for start in range(0, len(images), batch_size):
            yield preprocess_images(list(images[start:start + batch_size]), self.config.image_size, self.device)

    def tokens(self, images: Sequence[np.ndarray], batch_size: int = 256) -> "torch.Tensor":  # noqa: F821
        """Final-norm tokens (N, 1 + 4 + 64, 192): [CLS, registers, patches] (CPU float32)."""
        import torch

        with torch.inference_mode():
            return torch.cat([self.model.vit(x).float().cpu() for x in self._batches(images, batch_size)])

    def features(self, images: Sequence[np.ndarray], batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """(CLS features (N, 192), unit joint-space embeddings (N, 256))."""
        import torch

        cls_list, emb_list = [], []
        with torch.inference_mode():
            for x in self._batches(images, batch_size):
                tokens, emb = self.model.encode_image(x)
                cls_list.append(tokens[:, 0].float().cpu().numpy())
                emb_list.append(emb.float().cpu().numpy())
        if not cls_list:
            return np.zeros((0, self.config.width), np.float32), np.zeros((0, self.config.embed_dim), np.float32)
        return np.concatenate(cls_list), np.concatenate(emb_list)

    def text_embeddings(self, texts: Sequence[str]) -> np.ndarray:
        """Unit joint-space embeddings (N, 256) of texts."""
        import torch

        vectors = torch.from_numpy(shared_text_encoder(str(self.device)).sentence_vectors(list(texts)))
        with torch.inference_mode():
            return self.model.encode_text(vectors.to(self.device)).float().cpu().numpy()

    def score(self, images: Sequence[np.ndarray], texts: Sequence[str]) -> np.ndarray:
        """CLIP-like score matrix 100·cos(image_i, text_j), shape (N_images, N_texts)."""
        return 100.0 * self.features(images)[1] @ self.text_embeddings(texts).T


class EmbeddedPointEncoder:
    """Inference wrapper of :class:`text3d.nn.pointnet.PointNet`."""

    def __init__(self, model, device, folder: Path | None = None, points: int = 1024) -> None:
        self.model = model.eval().requires_grad_(False)
        self.device = device
        self.folder = folder
        self.points = points

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path | None = None,
                        device: str | None = None) -> "EmbeddedPointEncoder":
        folder = resolve_model_folder(name_or_path, POINT_ENCODER)
        state, config = load_folder(folder)
        with _foreign_folder(folder, "an embedded point encoder"):
            model_config = config["model"]
            model = PointNet(PointNetConfig(point_mlp=tuple(model_config["point_mlp"]),
                                            head=tuple(model_config["head"]), classes=model_config["classes"],
                                            dropout=model_config["dropout"]))
            model.load_state_dict(state)
        dev = resolve_device(device)
        return cls(model.to(dev), dev, folder, int(config.get("points", 1024)))

    @property
    def feature_dim(self) -> int:
        """D of the penultimate features: the last width of the classifier's head."""
        return int(self.model.config.head[-1])

    def run(self, clouds: Sequence[np.ndarray], batch_size: int = POINT_BATCH) -> tuple[np.ndarray, np.ndarray]:
        """(features (N, 128), logits (N, classes)) of point clouds (each (P, 3), any P).

        Each cloud is normalized to the unit sphere and reduced to the ``points`` the model
        was trained on by a fixed random subset (seed 0): a max-pool over more points than in
        training would shift the features. Clouds are batched with others of the same size
        (after the subset), so no cloud loses points to a shorter neighbour.
        """
        import torch

        reduced = [normalize_to_unit_sphere(subsample(np.asarray(c, np.float32), self.points)) for c in clouds]
        by_size: dict[int, list[int]] = {}
        for index, cloud in enumerate(reduced):
            by_size.setdefault(len(cloud), []).append(index)
        feats = np.zeros((len(reduced), self.feature_dim), np.float32)
        logits = np.zeros((len(reduced), self.model.config.classes), np.float32)
        with torch.inference_mode():
            for indices in by_size.values():
                for start in range(0, len(indices), batch_size):
                    chunk = indices[start:start + batch_size]
                    pts = torch.from_numpy(np.stack([reduced[i] for i in chunk]).astype(np.float32))
                    f, lg = self.model(pts.to(self.device))
                    feats[chunk] = f.float().cpu().numpy()
                    logits[chunk] = lg.float().cpu().numpy()
        return feats, logits


def subsample(points: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """A fixed random subset of ``count`` rows (all rows when there are fewer)."""
    if len(points) <= count:
        return points
    return points[np.sort(np.random.default_rng(seed).permutation(len(points))[:count])]
