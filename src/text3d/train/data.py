"""Training data for the embedded models, rendered from toyworld in worker processes.

For each (category, seed) item: ``views`` renders from random cameras (yaw ∈ [0, 360),
pitch ∈ [10°, 45°], r 2, FoV 40°) at 2× the stored size, area-downsampled; white
background mostly, black sometimes (the protocols' backgrounds). With probability
``voxel_prob`` the views show the item's 32³ voxel surface instead of its mesh, so the
encoders also know the coarse shapes a grid generator produces. Optionally the depth20 →
4,000-point cloud, and the 32³ occupancy + color grid. Everything is cached on disk by a
hash of the arguments, so a rerun (or a resumed training) does not render again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from text3d.data.toyworld.instance import item_spec, make_instance
from text3d.data.toyworld.vocabulary import built_categories, category_index, color_index
from text3d.render.cameras import Camera
from text3d.render.points import sample_surface_points
from text3d.render.renderer import render
from text3d.store.atomic import write_atomic
from text3d.train.pool import map_in_workers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataSpec:
    """What to render: items ``index ∈ [0, n)`` of :func:`item_spec` from ``base_seed``.
    Its fields, hashed, name the cache file."""

    n: int
    base_seed: int = 0
    views: int = 6
    image_size: int = 64
    voxel_prob: float = 0.25
    points_every: int = 0  # 0: no points; k: points for the items of every k-th round of categories
    grids: bool = False
    grid_resolution: int = 32
    version: int = 2  # of what render_item produces: part of the cache key, so a change renders again

    def key(self) -> str:
        return hashlib.sha1(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class RenderedItem:
    """What one item contributes (V views of S² pixels, R³ grid)."""

    index: int
    images: np.ndarray  # (V, S, S, 3) uint8
    voxelized: bool  # the views show the voxel surface, not the mesh
    category: int  # index into CATEGORY_NAMES
    color: int  # index into COLOR_NAMES
    kind: str  # "basic", "grouped", …
    material: str
    size: str
    texts: tuple[str, ...]  # prompts and captions, the paraphrase left out
    prompt: str
    points: np.ndarray | None = None  # (4000, 3) float16 surface points
    occupancy: np.ndarray | None = None  # (R, R, R) uint8, occupancy · 255
    grid_colors: np.ndarray | None = None  # (R, R, R, 3) uint8, linear RGB · 255


@dataclass(frozen=True)
class TrainingData:
    """The rendered training set: N items, V views each, P point clouds (P ≤ N)."""

    images: np.ndarray  # (N·V, S, S, 3) uint8, item-major
    image_item: np.ndarray  # (N·V,) int64, the item of each image
    voxelized: np.ndarray  # (N,) bool
    category: np.ndarray  # (N,) int64
    color: np.ndarray  # (N,) int64
    grouped: np.ndarray  # (N,) bool, several objects: no single category or color
    material: np.ndarray  # (N,) str
    size: np.ndarray  # (N,) str
    prompt: np.ndarray  # (N,) str, the short prompt
    texts: tuple[tuple[str, ...], ...]  # (N,) each item's prompts and captions
    points: np.ndarray | None = None  # (P, 4000, 3) float16
    point_item: np.ndarray | None = None  # (P,) int64, the item of each cloud
    occupancy: np.ndarray | None = None  # (N, R, R, R) uint8
    grid_colors: np.ndarray | None = None  # (N, R, R, R, 3) uint8

    @property
    def items(self) -> int:
        """N."""
        return len(self.category)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The cache file's arrays (``texts`` as one JSON string ``texts_json``)."""
        arrays = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                  if f.name != "texts" and getattr(self, f.name) is not None}
        arrays["texts_json"] = np.array(json.dumps([list(t) for t in self.texts]))
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> TrainingData:
        """Inverse of :meth:`to_arrays`."""
        texts = tuple(tuple(t) for t in json.loads(str(arrays["texts_json"])))
        return cls(texts=texts, **{k: v for k, v in arrays.items() if k != "texts_json"})


def _item_texts(instance) -> tuple[str, ...]:
    texts = list(dict.fromkeys(list(instance.prompts.values()) + list(instance.captions)))
    return tuple(t for t in texts if t != instance.prompts.get("paraphrase"))


def render_item(index: int, spec: DataSpec) -> RenderedItem:
    """Everything one item contributes (runs in a worker)."""
    programs = built_categories()
    category, seed = item_spec(index, spec.base_seed, programs)
    rng = np.random.default_rng([index, spec.base_seed, 99])
    instance = make_instance(category, seed)
    scene = instance.scene()
    grid = scene.voxel_grid(spec.grid_resolution) if spec.grids else None
    voxelized = bool(rng.random() < spec.voxel_prob)
    if voxelized:
        asset = (grid or scene.voxel_grid(spec.grid_resolution)).to_asset()
    else:
        asset = scene.to_asset()
    size = spec.image_size * 2
    cams = [Camera(yaw=float(rng.uniform(0, 360)), pitch=float(rng.uniform(10, 45)), resolution=size)
            for _ in range(spec.views)]
    background = "black" if rng.random() < 0.2 else "white"
    rgb = render(asset, cams, background=background).rgb
    small = rgb.reshape(spec.views, spec.image_size, 2, spec.image_size, 2, 3).mean(axis=(2, 4))
    meta = instance.metadata()
    points = None
    if spec.points_every and (index // len(programs)) % spec.points_every == 0:  # every category, 1/k seeds
        points = sample_surface_points(scene.to_asset(), 4000, 96)["points"].astype(np.float16)
    return RenderedItem(
        index=index, images=np.rint(small).astype(np.uint8), voxelized=voxelized,
        category=category_index(category), color=color_index(meta["color"]), kind=instance.kind,
        material=meta["material"], size=meta["size"], texts=_item_texts(instance), prompt=instance.prompt,
        points=points,
        occupancy=None if grid is None else np.rint(grid.occupancy * 255).astype(np.uint8),
        grid_colors=None if grid is None else np.rint(np.clip(grid.colors, 0, 1) * 255).astype(np.uint8),
    )


def _work(args: tuple[int, DataSpec]) -> RenderedItem:
    return render_item(*args)


def build_data(spec: DataSpec, cache_dir: str | Path, workers: int = 0, progress: bool | None = None) -> TrainingData:
    """Render (or load from ``cache_dir``) the data of ``spec``."""
    path = Path(cache_dir) / f"toyworld-{spec.key()}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as arrays:
            loaded = TrainingData.from_arrays({k: arrays[k] for k in arrays.files})
        log.info("training data: loaded %s", path)
        return loaded
    results = map_in_workers(_work, [(i, spec) for i in range(spec.n)], "render data", workers, progress,
                             chunksize=8)
    data = _stack(results, spec)
    write_atomic(path, lambda f: np.savez(f, **data.to_arrays()))
    return data


def _stack(results: list[RenderedItem], spec: DataSpec) -> TrainingData:
    results = sorted(results, key=lambda r: r.index)
    with_points = [r for r in results if r.points is not None]
    return TrainingData(
        images=np.concatenate([r.images for r in results]),
        image_item=np.repeat(np.arange(len(results)), spec.views),
        voxelized=np.array([r.voxelized for r in results]),
        category=np.array([r.category for r in results], np.int64),
        color=np.array([r.color for r in results], np.int64),
        grouped=np.array([r.kind == "grouped" for r in results]),
        material=np.array([r.material for r in results]),
        size=np.array([r.size for r in results]),
        prompt=np.array([r.prompt for r in results]),
        texts=tuple(r.texts for r in results),
        points=np.stack([r.points for r in with_points]) if with_points else None,
        point_item=np.array([r.index for r in with_points], np.int64) if with_points else None,
        occupancy=np.stack([r.occupancy for r in results]) if spec.grids else None,
        grid_colors=np.stack([r.grid_colors for r in results]) if spec.grids else None,
    )
