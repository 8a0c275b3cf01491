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

import hashlib
import json
import logging
import multiprocessing as mp
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataSpec:
    """What to render: items ``index ∈ [0, n)`` of :func:`item_spec` from ``base_seed``."""

    n: int
    base_seed: int = 0
    views: int = 6
    image_size: int = 64
    voxel_prob: float = 0.25
    points_every: int = 0  # 0: no points; k: points for the items of every k-th round of categories
    grids: bool = False
    grid_resolution: int = 32
    version: int = 2

    def key(self) -> str:
        return hashlib.sha1(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]


def _item_texts(instance) -> list[str]:
    texts = list(dict.fromkeys(list(instance.prompts.values()) + list(instance.captions)))
    return [t for t in texts if t != instance.prompts.get("paraphrase")]


def render_item(index: int, spec: DataSpec) -> dict[str, Any]:
    """Everything one item contributes (runs in a worker)."""
    from text3d.data.toyworld.instance import item_spec, make_instance
    from text3d.data.toyworld.style import load_programs
    from text3d.data.toyworld.vocabulary import CATEGORY_NAMES, category_index, color_index
    from text3d.render.cameras import Camera
    from text3d.render.renderer import render

    programs = tuple(c for c in CATEGORY_NAMES if c in load_programs())
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
    out: dict[str, Any] = {
        "index": index, "images": np.rint(small).astype(np.uint8), "voxelized": voxelized,
        "category": category_index(category), "color": color_index(meta["color"]), "kind": instance.kind,
        "material": meta["material"], "size": meta["size"], "texts": _item_texts(instance),
        "prompt": instance.prompt,
    }
    if spec.points_every and (index // len(programs)) % spec.points_every == 0:  # every category, 1/k seeds
        from text3d.render.points import sample_surface_points

        cloud = sample_surface_points(scene.to_asset(), 4000, 96)
        out["points"] = cloud["points"].astype(np.float16)
    if grid is not None:
        out["occupancy"] = np.rint(grid.occupancy * 255).astype(np.uint8)
        out["grid_colors"] = np.rint(np.clip(grid.colors, 0, 1) * 255).astype(np.uint8)
    return out


def _init_worker() -> None:
    os.environ["LP_NUM_THREADS"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"


def _work(args: tuple[int, DataSpec]) -> dict[str, Any]:
    return render_item(*args)


def build_data(spec: DataSpec, cache_dir: str | Path, workers: int = 0, progress: bool | None = None) -> dict[str, Any]:
    """Render (or load from ``cache_dir``) the data of ``spec`` as a dict of arrays/lists."""
    from text3d.progress import track
    from text3d.store.atomic import write_atomic

    path = Path(cache_dir) / f"toyworld-{spec.key()}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as data:
            loaded = {k: data[k] for k in data.files}
        loaded["texts"] = json.loads(str(loaded.pop("texts_json")))
        log.info("training data: loaded %s", path)
        return loaded
    workers = workers or max(1, os.cpu_count() or 1)
    jobs = [(i, spec) for i in range(spec.n)]
    if workers == 1:
        results = list(track(map(_work, jobs), total=len(jobs), description="render data", enabled=progress))
    else:
        with mp.get_context("spawn").Pool(workers, initializer=_init_worker) as pool:
            results = list(track(pool.imap(_work, jobs, chunksize=8), total=len(jobs), description="render data",
                                 enabled=progress))
    data = _stack(results, spec)
    arrays = {k: v for k, v in data.items() if k != "texts"}
    arrays["texts_json"] = np.array(json.dumps(data["texts"]))
    write_atomic(path, lambda f: np.savez(f, **arrays))
    return data


def _stack(results: list[dict[str, Any]], spec: DataSpec) -> dict[str, Any]:
    results.sort(key=lambda r: r["index"])
    data: dict[str, Any] = {
        "images": np.concatenate([r["images"] for r in results]),
        "image_item": np.repeat(np.arange(len(results)), spec.views),
        "voxelized": np.array([r["voxelized"] for r in results]),
        "category": np.array([r["category"] for r in results], np.int64),
        "color": np.array([r["color"] for r in results], np.int64),
        "grouped": np.array([r["kind"] == "grouped" for r in results]),
        "material": np.array([r["material"] for r in results]),
        "size": np.array([r["size"] for r in results]),
        "prompt": np.array([r["prompt"] for r in results]),
        "texts": [r["texts"] for r in results],
    }
    with_points = [r for r in results if "points" in r]
    if with_points:
        data["points"] = np.stack([r["points"] for r in with_points])
        data["point_item"] = np.array([r["index"] for r in with_points], np.int64)
    if spec.grids:
        data["occupancy"] = np.stack([r["occupancy"] for r in results])
        data["grid_colors"] = np.stack([r["grid_colors"] for r in results])
    return data
