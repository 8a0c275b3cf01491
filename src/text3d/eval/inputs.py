"""Reading the evaluation inputs from run folders (store/folders.py contract) and completing
them: missing view renders and missing ``points.ply`` files are produced in the item folders."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from text3d.errors import InputError
from text3d.progress import track
from text3d.store.folders import AssetFolder, RunFolder

log = logging.getLogger(__name__)

DEFAULT_RESOLUTION = 512
"""Side of rendered views when none exist (seed 001 App. C renders at 512²)."""


@dataclass
class EvalItem:
    """One finished item of a run: its folder, the user prompt, the caption and stage timings."""

    id: str
    folder: AssetFolder
    prompt: str
    caption: str | None
    timings_s: dict[str, float] = field(default_factory=dict)


def _caption(row: dict[str, Any], meta: dict[str, Any]) -> str | None:
    for source in (row, meta):
        caption = source.get("caption")
        if isinstance(caption, str) and caption.strip():
            return caption
        captions = source.get("captions")
        if isinstance(captions, list) and captions and isinstance(captions[0], str) and captions[0].strip():
            return captions[0]
    return None


def _timings(meta: dict[str, Any], row: dict[str, Any]) -> dict[str, float]:
    """Seconds per stage: meta.json ``timings_s``, else the manifest row's."""
    raw = meta.get("timings_s") or row.get("timings_s") or {}
    if not isinstance(raw, dict):
        return {}
    return {str(k): float(v) for k, v in raw.items() if isinstance(v, (int, float)) and np.isfinite(v)}


def load_items(run_dir: str | Path, label: str = "run") -> list[EvalItem]:
    """The finished items of a run folder, sorted by id."""
    run = RunFolder(run_dir)
    if not run.exists():
        raise InputError(f"{label} {run_dir}: not a run folder (no manifest.jsonl)")
    items = []
    for row, folder in sorted(run.done_items(), key=lambda pair: str(pair[0]["id"])):
        meta = folder.read_meta()
        prompt = row.get("prompt") or meta.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise InputError(f"{label} {run_dir}: item {row['id']!r} has no prompt in the manifest or meta.json")
        items.append(EvalItem(str(row["id"]), folder, prompt, _caption(row, meta), _timings(meta, row)))
    if not items:
        raise InputError(f"{label} {run_dir}: no finished items (status 'done') in manifest.jsonl")
    return items


def run_identity(run_dir: str | Path) -> tuple[str, str]:
    """(system, family) of a run: run.yaml ``system``/``name`` and ``family``, else the folder
    name; the family defaults to the part of the system name before ':' (seed 000 style)."""
    config = RunFolder(run_dir).read_config()
    system = str(config.get("system") or config.get("name") or Path(run_dir).resolve().name)
    family = str(config.get("family") or system.split(":")[0])
    return system, family


def _load(folder: AssetFolder, label: str):
    from text3d.assets.io import load_asset

    if not folder.asset_path.exists():
        raise InputError(f"{label}: {folder.root.name} has no asset.glb to render")
    return load_asset(folder.asset_path).normalized()


def ensure_views(items: list[EvalItem], protocol: str, resolution: int | None, render_missing: bool = True,
                 label: str = "run") -> list[list[Path]]:
    """The view files of ``protocol`` for every item, rendering those that are missing.

    ``resolution`` None accepts existing views of any size and renders missing ones at 512²;
    a number also re-renders views of another size.
    """
    from text3d.render.views import render_views

    todo = [item for item in items if not item.folder.has_views(protocol, resolution)]
    if todo and not render_missing:
        raise InputError(f"{label}: {len(todo)} items lack {protocol} views (first: {todo[0].id}); "
                         "allow rendering or run `text3d render` first")
    for item in track(todo, description=f"rendering {protocol} ({label})"):
        render_views(_load(item.folder, f"{label} item {item.id}"), item.folder.views_dir(protocol), protocol,
                     resolution or DEFAULT_RESOLUTION)
    if todo:
        log.info("%s: rendered %s views of %d items", label, protocol, len(todo))
    return [item.folder.view_paths(protocol) for item in items]


def ensure_points(items: list[EvalItem], n_points: int, resolution: int, label: str = "run") -> list[Path]:
    """``points.ply`` of every item (depth20 → back-projection → FPS), sampling missing ones."""
    from text3d.render.points import sample_surface_points, write_point_ply

    todo = [item for item in items if not item.folder.points_path.exists()]
    for item in track(todo, description=f"sampling points ({label})"):
        cloud = sample_surface_points(_load(item.folder, f"{label} item {item.id}"), n_points=n_points,
                                      resolution=resolution)
        write_point_ply(item.folder.points_path, cloud["points"], cloud["normals"], cloud["colors"])
    return [item.folder.points_path for item in items]


def read_cloud(path: Path, channels: int = 3) -> np.ndarray:
    """A PLY point cloud in its file frame (y-up): (P, 3) positions, or (P, 6) with normals."""
    import trimesh

    cloud = trimesh.load(str(path), process=False)
    points = np.asarray(cloud.vertices, np.float32)
    if channels == 3:
        return points
    data = cloud.metadata.get("_ply_raw", {}).get("vertex", {}).get("data")
    if data is None or not all(n in data.dtype.names for n in ("nx", "ny", "nz")):
        raise InputError(f"{path}: the point extractor needs normals (nx, ny, nz), which this PLY lacks")
    normals = np.stack([data["nx"], data["ny"], data["nz"]], axis=1).astype(np.float32)
    return np.concatenate([points, normals], axis=1)
