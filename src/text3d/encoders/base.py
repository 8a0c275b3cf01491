"""The feature-extractor interface shared by the evaluation protocol and every encoder.

An extractor maps images, texts or point clouds to one feature vector each::

    extractor = extractors.create("dinov2-vitl14", weights=None, device=None)
    feats = extractor.image_features([rgb_uint8_hxwx3, ...])   # (N, D) float32

Implementations subclass :class:`FeatureExtractor`, set the four class attributes, implement
the methods of their modalities, and register a factory (usually the class itself) in
:data:`extractors` from one module of ``text3d.encoders.extractors``. A factory accepts
``weights: str | None`` (hub id, local folder or file; ``None`` means the default) and
``device: str | None`` (resolved by :func:`text3d.device.resolve_device`). The evaluation
protocol reads ``modalities`` and ``joint_space`` from the registered factory before building
it (to load one model at a time), so they must be class attributes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar

import numpy as np

from text3d.errors import InputError, ModelNotAvailableError
from text3d.registry import Registry

MODALITIES = frozenset({"image", "text", "points"})


class FeatureExtractor:
    """Base class: images / texts / point clouds → (N, D) float32 features.

    Class attributes every implementation sets:

    * ``name`` — the registered name;
    * ``modalities`` — a subset of {"image", "text", "points"};
    * ``dim`` — D (instances may override it once weights are loaded); an extractor whose
      modalities differ in D declares the others in ``dims`` ({modality: D});
    * ``joint_space`` — True when image and text features share one space (CLIP), so
      cosines between them are meaningful (CLIP score, R-precision).

    Instances also expose ``weights_id``, a string that changes whenever the weights do (the
    feature cache keys on ``name`` + ``weights_id`` + input content), and ``point_channels``.
    """

    name: ClassVar[str] = ""
    modalities: ClassVar[frozenset[str]] = frozenset()
    dim: int = 0
    dims: Mapping[str, int] = MappingProxyType({})
    joint_space: ClassVar[bool] = False
    weights_id: str = ""
    point_channels: int = 3
    """Columns :meth:`point_features` reads per point: 3 (xyz) or 6 (xyz + normals)."""

    def feature_dim(self, modality: str) -> int:
        """D of ``modality``'s features (``"image"``, ``"text"`` or ``"points"``)."""
        return self.dims.get(modality, self.dim)

    def image_features(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """uint8 RGB images (H, W, 3), any size → (N, D) float32."""
        raise InputError(f"extractor {self.name!r} has no image features (modalities: {sorted(self.modalities)})")

    def text_features(self, texts: Sequence[str]) -> np.ndarray:
        """Strings → (N, D) float32."""
        raise InputError(f"extractor {self.name!r} has no text features (modalities: {sorted(self.modalities)})")

    def point_features(self, clouds: Sequence[np.ndarray]) -> np.ndarray:
        """Point clouds (P, 3) float → (N, D) float32."""
        raise InputError(f"extractor {self.name!r} has no point features (modalities: {sorted(self.modalities)})")

    def supports(self, modality: str) -> bool:
        return modality in self.modalities


extractors: Registry[FeatureExtractor] = Registry("extractor", ("text3d.encoders.extractors",))
"""Registered feature extractors, discovered lazily from ``text3d.encoders.extractors``."""


def create_extractor(name: str, weights: str | None = None, device: str | None = None) -> FeatureExtractor:
    """Build the extractor registered as ``name``."""
    return extractors.create(name, weights=weights, device=device)


def resolve_weights(weights: str | None, env_var: str, default: str | None) -> str | None:
    """The weights to load: the explicit argument, else ``$env_var``, else ``default``."""
    return weights or os.environ.get(env_var) or default


def weights_fingerprint(source: str) -> str:
    """A cache-key string for ``source``: a hub id as is; a local path with the size and mtime
    of its weight files, so replacing the weights invalidates cached features."""
    path = Path(source).expanduser()
    if not path.exists():
        return source
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()
                                                 and p.suffix in (".safetensors", ".bin", ".pth", ".pt", ".json"))
    parts = [f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files]
    return f"{path.resolve()}|{'|'.join(parts)}"


def not_available(extractor: str, where: str, how: str) -> ModelNotAvailableError:
    """The one-line error for missing weights: which extractor, where it looked, how to fix it."""
    return ModelNotAvailableError(f"extractor {extractor!r}: weights not found ({where}); {how}")


def stack_features(chunks: list[np.ndarray], dim: int) -> np.ndarray:
    """Concatenate batch outputs into (N, D) float32; (0, D) when there are none."""
    if not chunks:
        return np.zeros((0, dim), np.float32)
    return np.ascontiguousarray(np.concatenate(chunks, axis=0), dtype=np.float32)
