"""Build a toyworld run folder: ``items/<id>/`` asset folders and ``manifest.jsonl``.

Items are (category, seed) pairs enumerated round-robin over the categories from a base
seed (:func:`~text3d.data.toyworld.instance.item_spec`), so ``--n 1000 --seed 0`` always
means the same 1,000 objects. Work runs in ``workers`` processes, each with its own
offscreen GL context. Every file is written atomically and ``meta.json`` last; a finished
item gets a manifest row with ``status: done``. Running the same command again skips done
items and redoes only what was missing, so a killed build resumes without losing work.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from text3d.data.toyworld.vocabulary import CATEGORIES, load_programs
from text3d.errors import InputError, one_line
from text3d.progress import track
from text3d.render.cameras import PROTOCOLS
from text3d.store.atomic import remove_stale_temporaries
from text3d.store.folders import STATUS_DONE, STATUS_FAILED, AssetFolder, RunFolder
from text3d.version import __version__

log = logging.getLogger(__name__)


@dataclass
class BuildConfig:
    """Everything that defines a toyworld build (written to run.yaml)."""

    n: int
    seed: int = 0
    views: tuple[str, ...] = ("canonical4",)
    resolution: int = 128
    points: bool = True
    point_resolution: int = 128
    background: str = "white"
    categories: tuple[str, ...] = field(default_factory=tuple)
    workers: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["views"] = list(self.views)
        data["categories"] = list(self.categories)
        data.pop("workers")  # how fast, not what: not part of the run's identity
        return {"dataset": "toyworld", **data}


def _resolved_categories(config: BuildConfig) -> tuple[str, ...]:
    programs = load_programs()
    names = config.categories or tuple(c for c in CATEGORIES if c in programs)
    unknown = [c for c in names if c not in programs]
    if unknown:
        raise InputError(f"unknown toyworld categories: {', '.join(unknown)}")
    return tuple(names)


def build_item(index: int, config: BuildConfig, root: Path, categories: tuple[str, ...]) -> dict[str, Any]:
    """Write one item's asset folder; returns its manifest row (status done or failed)."""
    # the programs, the renderer and mesh export load when a build runs: this module is on the
    # cold path of `text3d --help` (text3d.cli.data)
    from text3d.assets.io import save_asset
    from text3d.data.toyworld.instance import item_spec, make_instance
    from text3d.render.points import sample_surface_points, write_point_plan, write_point_ply
    from text3d.render.views import render_views

    category, seed = item_spec(index, config.seed, categories)
    row: dict[str, Any] = {"id": f"{category}-{seed:07d}", "index": index, "category": category, "seed": seed}
    try:
        timings: dict[str, float] = {}
        start = time.perf_counter()
        instance = make_instance(category, seed)
        asset = instance.scene().to_asset()
        timings["generate"] = time.perf_counter() - start
        folder = AssetFolder(root / "items" / instance.id)
        remove_stale_temporaries(folder.root)  # left by a killed earlier attempt at this item
        start = time.perf_counter()
        save_asset(asset, folder.asset_path)
        timings["export"] = time.perf_counter() - start
        start = time.perf_counter()
        for protocol in config.views:
            render_views(asset, folder.views_dir(protocol), protocol, config.resolution, config.background)
        timings["render"] = time.perf_counter() - start
        if config.points:
            start = time.perf_counter()
            n_points = 4000  # eval's default (``text3d eval --points``), so its FD_points reuses the clouds
            cloud = sample_surface_points(asset, n_points, config.point_resolution)
            write_point_ply(folder.points_path, cloud["points"], cloud["normals"], cloud["colors"])
            write_point_plan(folder.points_path, n_points, config.point_resolution)
            timings["points"] = time.perf_counter() - start
        meta = instance.metadata()
        meta.update({"backend": "procedural", "model": "toyworld", "caption": instance.captions[0],
                     "timings_s": {k: round(v, 4) for k, v in timings.items()}, "version": __version__,
                     "n_faces": asset.n_faces})
        folder.write_meta(meta)
        row.update({"kind": instance.kind, "prompt": instance.prompt, "captions": instance.captions,
                    "prompts": instance.prompts, "split": instance.split, "color": meta["color"],
                    "material": meta["material"], "size": meta["size"], "status": STATUS_DONE,
                    "outputs": {"asset": f"items/{instance.id}/asset.glb", "meta": f"items/{instance.id}/meta.json"}})
    except Exception as exc:  # one bad item must not stop the build; it is recorded and retried on resume
        log.warning("toyworld item %s failed: %s", row["id"], exc)
        row.update({"status": STATUS_FAILED, "error": one_line(f"{type(exc).__name__}: {exc}")})
    return row


def _worker_init(threads_per_worker: int) -> None:
    os.environ["LP_NUM_THREADS"] = str(threads_per_worker)  # llvmpipe rasterizer threads
    os.environ["OMP_NUM_THREADS"] = "1"


def _worker(args: tuple[int, BuildConfig, Path, tuple[str, ...]]) -> dict[str, Any]:
    return build_item(*args)


def check_config(config: BuildConfig) -> tuple[str, ...]:
    """Refuse a build that cannot run (before its folder is touched); returns its categories."""
    if config.n < 1:
        raise InputError(f"--n {config.n}: must be at least 1")
    for protocol in config.views:
        if protocol not in PROTOCOLS:
            raise InputError(f"unknown view protocol {protocol!r} (known: {', '.join(PROTOCOLS)})")
    return _resolved_categories(config)


def build_toyworld(config: BuildConfig, out: str | Path, progress: bool | None = None) -> dict[str, Any]:
    """Build (or resume) the run folder ``out``; returns counts and timing."""
    from text3d.data.toyworld.instance import item_spec  # the programs load when a build runs

    categories = check_config(config)
    run = RunFolder(out)
    wanted = {**config.to_dict(), "categories": list(categories)}
    previous = run.claim(wanted)
    run.write_config({**wanted, "n": max(config.n, int(previous.get("n", 0)))})

    rows = run.manifest.rows()
    pending = []
    for index in range(config.n):
        category, seed = item_spec(index, config.seed, categories)
        item_id = f"{category}-{seed:07d}"
        done = rows.get(item_id, {}).get("status") == STATUS_DONE and run.item(item_id).is_complete()
        if not done:
            pending.append(index)
    workers = config.workers or max(1, os.cpu_count() or 1)
    workers = min(workers, max(1, len(pending)))
    log.info("toyworld: %d items, %d to build, %d workers", config.n, len(pending), workers)
    start = time.perf_counter()
    failed = 0
    jobs = [(i, config, run.root, categories) for i in pending]
    if workers == 1:
        results = map(_worker, jobs)
        for row in track(results, total=len(jobs), description="toyworld", enabled=progress):
            run.manifest.update(row)
            failed += row["status"] == STATUS_FAILED
    else:
        context = mp.get_context("spawn")
        threads = max(1, (os.cpu_count() or 1) // workers)
        with context.Pool(workers, initializer=_worker_init, initargs=(threads,)) as pool:
            results = pool.imap_unordered(_worker, jobs, chunksize=4)
            for row in track(results, total=len(jobs), description="toyworld", enabled=progress):
                run.manifest.update(row)
                failed += row["status"] == STATUS_FAILED
    run.manifest.compact(sort_key="index")
    elapsed = time.perf_counter() - start
    return {"n": config.n, "built": len(pending) - failed, "failed": failed, "skipped": config.n - len(pending),
            "seconds": round(elapsed, 2), "workers": workers}
