"""Feature extraction for evaluation, with an on-disk cache.

A cache entry is one ``.npy`` array keyed by sha256 of (extractor name, extractor
``weights_id``, modality, content digest). The content digest of images and point clouds is
the blake2b hash of their files' bytes, so renaming or copying a run keeps its cache hits and
any re-render or new weights miss. Images are read and encoded in bounded batches, so memory
stays flat however many assets a run holds; an image that several groups share (same file
digest) is encoded once.

The cache lives in ``$TEXT3D_CACHE_DIR/features`` when that variable is set, else in
``<evaluation out dir>/cache/features``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from text3d.encoders.base import FeatureExtractor
from text3d.encoders.batching import padded_batch
from text3d.progress import track

log = logging.getLogger(__name__)

IMAGES_PER_BATCH = 256
PIXELS_PER_BATCH = 64 * 512 * 512
"""A batch holds at most 256 images and as many pixels as 64 views at 512² (≈ 50 MB of uint8
RGB), so memory stays flat whatever the view size."""
MEMO_BYTES = 256 * 2 ** 20
"""Feature rows kept in memory per :class:`FeatureCache` for images seen twice in one process."""
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
    """``.npy`` arrays under ``root/<extractor>/<key[:2]>/<key>.npy``, plus an in-memory table
    of per-image rows {(extractor, weights_id, file digest): row} of at most ``MEMO_BYTES``
    (so an image shared by two protocols is encoded once per process)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._rows: dict[tuple[str, str, str], np.ndarray] = {}
        self._row_bytes = 0

    def remember(self, extractor: FeatureExtractor, digests: Sequence[str], rows: np.ndarray) -> None:
        """Keep the feature row of each image digest (until ``MEMO_BYTES`` are held)."""
        for digest, row in zip(digests, rows):
            key = (extractor.name, str(extractor.weights_id), digest)
            if key in self._rows or self._row_bytes + row.nbytes > MEMO_BYTES:
                continue
            self._rows[key] = np.array(row, np.float32)
            self._row_bytes += row.nbytes

    def recall(self, extractor: FeatureExtractor, digest: str) -> np.ndarray | None:
        """The remembered feature row of an image digest, or None."""
        return self._rows.get((extractor.name, str(extractor.weights_id), digest))

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
        """Write an entry atomically (temporary file + rename) but without fsync: an entry lost
        in a crash is recomputed, and syncing thousands of small files dominated the write."""
        data = np.ascontiguousarray(array, dtype=np.float32)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with open(temporary, "wb") as handle:
                np.save(handle, data, allow_pickle=False)
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise


def read_rgb(path: Path) -> np.ndarray:
    """An image file as a uint8 (H, W, 3) array (alpha composited on white)."""
    with Image.open(path) as image:
        if image.mode in ("RGBA", "LA", "P"):
            rgba = image.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
        return np.asarray(image.convert("RGB"))


def _read_batch(files: Sequence[Path]) -> list[np.ndarray]:
    return [read_rgb(f) for f in files]


def image_group_features(extractor: FeatureExtractor, groups: Sequence[Sequence[Path]], cache: FeatureCache,
                         description: str = "features") -> list[np.ndarray]:
    """Features of each group of image files (e.g. one asset's views): a (V, D) array per group.

    Groups found in the cache are loaded; of the rest, each distinct image (by file digest:
    canonical4's views are clip8's even ones) is decoded and encoded once, in batches of at
    most ``IMAGES_PER_BATCH`` images and ``PIXELS_PER_BATCH`` pixels, the next batch decoded
    on a second thread while the extractor runs. Rows of images seen earlier in this process
    come from the cache's in-memory table.
    """
    results: list[np.ndarray | None] = [None] * len(groups)
    pending: list[tuple[int, Path, list[str]]] = []
    for index, files in enumerate(groups):
        digests = [file_digest(f) for f in files]
        entry = cache.path(extractor, "image", "|".join(digests))
        cached = cache.load(entry)
        if cached is not None and len(cached) == len(files):
            results[index] = cached
            cache.remember(extractor, digests, cached)
        else:
            pending.append((index, entry, digests))
    rows: dict[str, np.ndarray] = {}
    todo: dict[str, Path] = {}
    for index, _, digests in pending:
        for digest, path in zip(digests, groups[index]):
            known = cache.recall(extractor, digest)
            if known is not None:
                rows[digest] = known
            elif digest not in todo:
                todo[digest] = Path(path)
    if pending:
        log.info("%s: %d of %d groups not cached; encoding %d distinct images with %s", description, len(pending),
                 len(groups), len(todo), extractor.name)
    batches = _image_batches(list(todo.items()))
    with ThreadPoolExecutor(max_workers=1) as reader:
        ahead = reader.submit(_read_batch, [p for _, p in batches[0]]) if batches else None
        for number, batch in enumerate(track(batches, description=f"{description} ({extractor.name})")):
            images = ahead.result()
            if number + 1 < len(batches):
                ahead = reader.submit(_read_batch, [p for _, p in batches[number + 1]])
            features = np.asarray(extractor.image_features(padded_batch(images)), np.float32)[:len(images)]
            for (digest, _), row in zip(batch, features):
                rows[digest] = row
            cache.remember(extractor, [d for d, _ in batch], features)
    for index, entry, digests in pending:
        empty = np.zeros((0, extractor.feature_dim("image")), np.float32)
        results[index] = np.stack([rows[d] for d in digests]) if digests else empty
        cache.save(entry, results[index])
    return [np.asarray(r, np.float32) for r in results]


def _image_batches(files: list[tuple[str, Path]]) -> list[list[tuple[str, Path]]]:
    """Consecutive batches of at most IMAGES_PER_BATCH images and PIXELS_PER_BATCH pixels."""
    batches: list[list[tuple[str, Path]]] = []
    current: list[tuple[str, Path]] = []
    pixels = 0
    for digest, path in files:
        with Image.open(path) as image:
            size = image.width * image.height
        if current and (len(current) >= IMAGES_PER_BATCH or pixels + size > PIXELS_PER_BATCH):
            batches.append(current)
            current, pixels = [], 0
        current.append((digest, path))
        pixels += size
    if current:
        batches.append(current)
    return batches


def text_features(extractor: FeatureExtractor, texts: Sequence[str], cache: FeatureCache) -> np.ndarray:
    """(N, D) features of ``texts``; each distinct text is encoded once and cached."""
    if not texts:
        return np.zeros((0, extractor.feature_dim("text")), np.float32)
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
    chunks = [pending[start:start + CLOUDS_PER_BATCH] for start in range(0, len(pending), CLOUDS_PER_BATCH)]

    def read(chunk: list[tuple[int, Path]]) -> list[np.ndarray]:
        return [reader(files[index], extractor.point_channels) for index, _ in chunk]

    with ThreadPoolExecutor(max_workers=1) as pool:  # the next chunk is read while this one is encoded
        ahead = pool.submit(read, chunks[0]) if chunks else None
        for number, chunk in enumerate(chunks):
            clouds = ahead.result()
            if number + 1 < len(chunks):
                ahead = pool.submit(read, chunks[number + 1])
            features = extractor.point_features(clouds)
            for (index, entry), row in zip(chunk, features):
                rows[index] = row
                cache.save(entry, row)
    if not files:
        return np.zeros((0, extractor.feature_dim("points")), np.float32)
    return np.stack(rows).astype(np.float32)
