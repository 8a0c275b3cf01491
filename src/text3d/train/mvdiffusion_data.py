"""Training and held-out views of the multi-view diffusion teacher, rendered in worker processes.

Item ``index`` of a range from ``base_seed`` is toyworld's :func:`~text3d.data.toyworld.instance.item_spec`
(categories with a program, round-robin). Each gets four views 90° apart — from a random start yaw
and one random pitch in [``pitch_low``, ``pitch_high``] for training, toyworld's canonical4 cameras
(yaw 0/90/180/270°, pitch 30°) for held-out items — rendered at 2S² with normals and depth and
2×2 area-averaged to S². A view has 7 channels in [−1, 1]:

* RGB on white: 2·rgb/255 − 1;
* world-space unit normal (0 on the background; averaged normals at silhouettes are shorter);
* depth: clip(z − 2, −1, 1) with z the camera-space depth in world units (the camera is 2 units
  from the origin), +1 on the background (far).

They are stored as uint8, q = ⌊(x + 1)/2·255⌉ (depth steps of 0.008 world units), with the
camera-to-world matrices (V, 4, 4) and the texts: held-out items their prompt, training items their
prompt and one caption. Samples are cached on disk by a hash of the spec.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from text3d.data.toyworld.instance import item_spec, make_instance
from text3d.data.toyworld.vocabulary import built_categories
from text3d.render.cameras import Camera, canonical4
from text3d.store.atomic import write_atomic
from text3d.train.pool import map_in_workers

VIEWS = 4


@dataclass(frozen=True)
class ViewSpec:
    """Items ``index ∈ [0, n)`` from ``base_seed``; hashed, the fields name the cache file."""

    n: int
    base_seed: int = 0
    image_size: int = 32
    random_cameras: bool = True
    pitch_low: float = 10.0
    pitch_high: float = 40.0
    version: int = 1

    def key(self) -> str:
        return hashlib.sha1(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]


def item_cameras(index: int, spec: ViewSpec) -> list[Camera]:
    """The item's four cameras at 2S² (see the module docstring)."""
    if not spec.random_cameras:
        return canonical4(resolution=2 * spec.image_size)
    rng = np.random.default_rng([index, spec.base_seed, 11])
    start, pitch = float(rng.uniform(0, 360)), float(rng.uniform(spec.pitch_low, spec.pitch_high))
    return [Camera(yaw=start + 90.0 * k, pitch=pitch, resolution=2 * spec.image_size) for k in range(VIEWS)]


def encode_views(rgb: np.ndarray, normals: np.ndarray, depth: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Renders at 2S² (rgb (V, 2S, 2S, 3) uint8, normals (V, 2S, 2S, 3), depth and mask (V, 2S, 2S))
    → views (V, 7, S, S) float32 in [−1, 1], 2×2 area-averaged."""
    d = np.where(mask, np.clip(depth - 2.0, -1.0, 1.0), 1.0)[..., None]
    full = np.concatenate([rgb.astype(np.float32) / 127.5 - 1.0, normals, d], axis=-1)  # (V, 2S, 2S, 7)
    v, size = full.shape[0], full.shape[1] // 2
    return full.reshape(v, size, 2, size, 2, 7).mean(axis=(2, 4)).transpose(0, 3, 1, 2).astype(np.float32)


def quantize(views: np.ndarray) -> np.ndarray:
    """[−1, 1] → uint8."""
    return np.rint((np.clip(views, -1, 1) + 1) * 127.5).astype(np.uint8)


def dequantize(views: np.ndarray) -> np.ndarray:
    """uint8 → [−1, 1] float32."""
    return views.astype(np.float32) / 127.5 - 1.0


def make_item(index: int, spec: ViewSpec) -> dict:
    """One item: views (V, 7, S, S) uint8, c2w (V, 4, 4), category, texts."""
    from text3d.render.renderer import render

    category, seed = item_spec(index, spec.base_seed, built_categories())
    instance = make_instance(category, seed)
    cameras = item_cameras(index, spec)
    result = render(instance.scene().to_asset(), cameras, background="white", depth=True, normals=True)
    views = quantize(encode_views(result.rgb[..., :3], result.normals, result.depth, result.mask))
    if spec.random_cameras:
        rng = np.random.default_rng([index, spec.base_seed, 12])
        texts = [instance.prompt, instance.captions[int(rng.integers(len(instance.captions)))]]
    else:
        texts = [instance.prompt, instance.prompt]
    return {"index": index, "views": views, "c2w": np.stack([c.c2w() for c in cameras]).astype(np.float32),
            "category": category, "texts": texts}


def _work(args: tuple[int, ViewSpec]) -> dict:
    return make_item(*args)


@dataclass(frozen=True)
class ViewSet:
    """N items: views (N, V, 7, S, S) uint8, c2w (N, V, 4, 4), categories (N,), texts (N, 2)."""

    views: np.ndarray
    c2w: np.ndarray
    categories: np.ndarray
    texts: np.ndarray

    def __len__(self) -> int:
        return len(self.categories)


def build_views(spec: ViewSpec, cache_dir: str | Path | None, workers: int = 0,
                progress: bool | None = None) -> ViewSet:
    """Render (or load from ``cache_dir``) the items of ``spec``."""
    path = None if cache_dir is None else Path(cache_dir) / f"mvdiffusion-{spec.key()}.npz"
    if path is not None and path.exists():
        with np.load(path, allow_pickle=False) as arrays:
            return ViewSet(**{k: arrays[k] for k in arrays.files})
    rows = map_in_workers(_work, [(i, spec) for i in range(spec.n)], "render views", workers, progress,
                          chunksize=8, serial_below=16)
    rows.sort(key=lambda r: r["index"])
    views = ViewSet(views=np.stack([r["views"] for r in rows]), c2w=np.stack([r["c2w"] for r in rows]),
                    categories=np.array([r["category"] for r in rows]), texts=np.array([r["texts"] for r in rows]))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, lambda f: np.savez(f, **asdict(views)))
    return views
