"""Feature extraction for evaluation, with an on-disk cache.

A cache entry is one ``.npy`` array keyed by sha256 of (extractor name, extractor
``weights_id``, modality, content digest). The content digest of images and point clouds is
the blake2b hash of their files' bytes, so renaming or copying a run keeps its cache hits and
any re-render or new weights miss. Images are read and encoded in bounded batches, so memory
stays flat however many assets a run holds.

The cache lives in ``$TEXT3D_CACHE_DIR/features`` when that variable is set, else in
``<evaluation out dir>/cache/features``.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from text3d.encoders.base import FeatureExtractor
from text3d.progress import track
from text3d.store.atomic import write_atomic

log = logging.getLogger(__name__)

IMAGES_PER_BATCH = 64
CLOUDS_PER_BATCH = 32
CACHE_ENV = "TEXT3D_CACHE_DIR"


def default_cache_dir(out_dir: str | Path) -> Path:
    """``$TEXT3D_CACHE_DIR/features`` if set, else ``out_dir/cache/features``."""
    root = os.environ.get(CACHE_ENV)
    return Path(root) / "features" if root else Path(out_dir) / "cache" / "features"


def file_digest(path: str | Path) -> str:
    """blake2b-256 hex digest of a file's bytes."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, lambda: hashlib.blake2b(digest_size=32)).hexdigest()


def text_digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=32).hexdigest()


class FeatureCache:
    """``.npy`` arrays under ``root/<extractor>/<key[:2]>/<key>.npy``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, extractor: FeatureExtractor, modality: str, digest: str) -> Path:
        identity = f"{extractor.name}\n{extractor.weights_id}\n{modality}\n{digest}"
        key = hashlib.sha256(identity.encode("utf-8")).hexdigest()
        return self.root / extractor.name / key[:2] / f"{key}.npy"

    def load(self, path: Path) -> np.ndarray | None:
        if not path.exists():
            return None
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable cache entry %s: %s", path, exc)
            return None

    def save(self, path: Path, array: np.ndarray) -> None:
        data = np.ascontiguousarray(array, dtype=np.float32)
        write_atomic(path, lambda handle: np.save(handle, data, allow_pickle=False))


def read_rgb(path: Path) -> np.ndarray:
    """An image file as a uint8 (H, W, 3) array (alpha composited on white)."""
    with Image.open(path) as image:
        if image.mode in ("RGBA", "LA", "P"):
            rgba = image.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
        return np.asarray(image.convert("RGB"))


def image_group_features(extractor: FeatureExtractor, groups: Sequence[Sequence[Path]], cache: FeatureCache,
                         description: str = "features") -> list[np.ndarray]:
    """Features of each group of image files (e.g. one asset's views): a (V, D) array per group."""
    results: list[np.ndarray | None] = [None] * len(groups)
    pending: list[tuple[int, Path]] = []
    for index, files in enumerate(groups):
        digest = "|".join(file_digest(f) for f in files)
        entry = cache.path(extractor, "image", digest)
        cached = cache.load(entry)
        if cached is not None and len(cached) == len(files):
            results[index] = cached
        else:
            pending.append((index, entry))
    if pending:
        log.info("%s: encoding %d of %d groups with %s", description, len(pending), len(groups), extractor.name)
    batch_images: list[np.ndarray] = []
    batch_groups: list[tuple[int, Path, int]] = []

    def flush() -> None:
        if not batch_groups:
            return
        features = extractor.image_features(batch_images)
        start = 0
        for index, entry, count in batch_groups:
            results[index] = features[start:start + count]
            cache.save(entry, results[index])
            start += count
        batch_images.clear()
        batch_groups.clear()

    for index, entry in track(pending, description=f"{description} ({extractor.name})"):
        images = [read_rgb(f) for f in groups[index]]
        batch_images.extend(images)
        batch_groups.append((index, entry, len(images)))
        if len(batch_images) >= IMAGES_PER_BATCH:
            flush()
    flush()
    return [np.asarray(r, np.float32) for r in results]


def text_features(extractor: FeatureExtractor, texts: Sequence[str], cache: FeatureCache) -> np.ndarray:
    """(N, D) features of ``texts``; each distinct text is encoded once and cached."""
    if not texts:
        return np.zeros((0, extractor.dim), np.float32)
    unique = sorted(set(texts))
    found: dict[str, np.ndarray] = {}
    missing: list[str] = []
    for text in unique:
        cached = cache.load(cache.path(extractor, "text", text_digest(text)))
        if cached is None:
            missing.append(text)
        else:
            found[text] = cached
    if missing:
        encoded = extractor.text_features(missing)
        for text, row in zip(missing, encoded):
            found[text] = row
            cache.save(cache.path(extractor, "text", text_digest(text)), row)
    return np.stack([found[t] for t in texts]).astype(np.float32)


def point_cloud_features(extractor: FeatureExtractor, files: Sequence[Path], cache: FeatureCache,
                         reader: Callable[[Path, int], np.ndarray]) -> np.ndarray:
    """(N, D) features of point-cloud files, read with ``reader(path, channels)``."""
    rows: list[np.ndarray | None] = [None] * len(files)
    pending = []
    for index, path in enumerate(files):
        entry = cache.path(extractor, "points", file_digest(path))
        cached = cache.load(entry)
        if cached is None:
            pending.append((index, entry))
        else:
            rows[index] = cached
    for start in range(0, len(pending), CLOUDS_PER_BATCH):
        chunk = pending[start:start + CLOUDS_PER_BATCH]
        clouds = [reader(files[index], extractor.point_channels) for index, _ in chunk]
        features = extractor.point_features(clouds)
        for (index, entry), row in zip(chunk, features):
            rows[index] = row
            cache.save(entry, row)
    if not files:
        return np.zeros((0, extractor.dim), np.float32)
    return np.stack(rows).astype(np.float32)
