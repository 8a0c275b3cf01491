"""Reading the evaluation inputs from run folders (store/folders.py contract) and completing
them: missing or stale view renders and ``points.ply`` files are produced in the item folders,
or, for an item folder that cannot be written (a read-only reference set), in a spill folder
the caller names (the evaluation's ``derived/``), leaving the run as it was.

Views and points are reused only when they still stand for the item's asset.glb (see
:func:`prepare_items`); a truncated or corrupt asset, or one that renders blank, is refused
with one line naming the item."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from text3d.assets.io import load_asset
from text3d.errors import InputError
from text3d.executors import Executor, Stage, using_executor
from text3d.render.points import plan_path, point_plan_matches, sample_surface_points, write_point_plan, write_point_ply
from text3d.render.views import asset_record, glb_is_whole, render_protocols, reusable_views
from text3d.store.atomic import write_json
from text3d.store.folders import STATUS_DONE, AssetFolder, RunFolder

log = logging.getLogger(__name__)

DEFAULT_RESOLUTION = 512
"""Side of rendered views when none exist (GAP3D App. C renders at 512²)."""


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
    run.read_config()  # a damaged run.yaml is refused before any work, not when the report names the run
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


def unfinished_items(run_dir: str | Path) -> tuple[int, str]:
    """(number of the run's items that failed or never finished, the first one's error or status):
    :func:`load_items` leaves them out, so a system that fails on hard prompts would look complete."""
    rows = [row for row in RunFolder(run_dir).manifest.rows().values() if row.get("status") != STATUS_DONE]
    first = next((str(r.get("error") or r.get("status")) for r in rows), "")
    return len(rows), first


def run_identity(run_dir: str | Path) -> tuple[str, str]:
    """(system, family) of a run: run.yaml ``system``/``name`` and ``family``, else the folder
    name; the family defaults to the part of the system name before ':' (model tags such as
    ``gemma3:12b``, as in the LLM-augmentation study)."""
    config = RunFolder(run_dir).read_config()
    system = str(config.get("system") or config.get("name") or Path(run_dir).resolve().name)
    family = str(config.get("family") or system.split(":")[0])
    return system, family


POINTS_SOURCE = "points.source.json"
"""Beside ``points.ply`` sampled into a spill folder: the size and digest of the asset it was
sampled from (:func:`text3d.render.views.asset_record`), which lives in another folder."""


def writable(folder: str | Path) -> bool:
    """Whether files can be created in ``folder`` (false without permission or on a read-only mount)."""
    return os.access(folder, os.W_OK | os.X_OK)


def _load(asset_path: Path, label: str):
    if not asset_path.exists():
        raise InputError(f"{label}: {asset_path.parent.name} has no asset.glb to render")
    try:
        return load_asset(asset_path).normalized()
    except InputError as exc:
        raise InputError(f"{label}: asset.glb is truncated or corrupt and its views/points cannot be trusted "
                         f"({exc})") from None


def spilled_points_reusable(folder: AssetFolder, asset_path: Path, plan: tuple[int, int]) -> bool:
    """True when the spill ``folder`` holds points sampled with ``plan`` from exactly the file
    ``asset_path`` (its recorded size and blake2b digest, :data:`POINTS_SOURCE`)."""
    try:
        recorded = json.loads((folder.root / POINTS_SOURCE).read_text())
        return (folder.points_path.is_file() and recorded == asset_record(asset_path)
                and point_plan_matches(folder.points_path, *plan))
    except (OSError, ValueError):
        return False


def points_reusable(folder: AssetFolder, plan: tuple[int, int]) -> bool:
    """True when ``points.ply`` exists, was sampled with ``plan`` = (n_points, depth resolution)
    (:func:`text3d.render.points.point_plan_matches`), and still stands for ``asset.glb``: the
    asset is missing, or it is a whole GLB (:func:`text3d.render.views.glb_is_whole`) not newer
    than the points."""
    if not folder.points_path.is_file() or not point_plan_matches(folder.points_path, *plan):
        return False
    asset = folder.asset_path
    if not asset.exists():
        return True
    if asset.suffix.lower() == ".glb" and not glb_is_whole(asset):
        return False
    return folder.points_path.stat().st_mtime_ns >= asset.stat().st_mtime_ns


@dataclass(frozen=True)
class CompleteJob:
    """One item to complete: the folder written to, the asset read, the view protocols to
    render at ``resolution``, and (n_points, depth resolution) when its points are to be sampled."""

    folder: str
    asset: str
    protocols: tuple[str, ...]
    resolution: int
    points: tuple[int, int] | None
    name: str


def _no_models() -> None:
    """Setup of the completing stage: rendering loads no model."""


def complete_item(_: None, job: CompleteJob) -> str:
    """Render the missing views and sample the points of one item into its folder; returns the folder."""
    folder, source = AssetFolder(job.folder), Path(job.asset)
    asset = _load(source, job.name)
    if job.protocols:
        dirs = {protocol: folder.views_dir(protocol) for protocol in job.protocols}
        render_protocols(asset, dirs, job.resolution, source=source, label=job.name)
    if job.points is not None:
        try:
            cloud = sample_surface_points(asset, n_points=job.points[0], resolution=job.points[1])
        except InputError as exc:
            raise InputError(f"{job.name}: {exc}") from None
        write_point_ply(folder.points_path, cloud["points"], cloud["normals"], cloud["colors"])
        write_point_plan(folder.points_path, *job.points)
        if folder.asset_path != source:  # a spill folder: record what the points stand for
            write_json(folder.root / POINTS_SOURCE, asset_record(source))
    return job.folder


def _holds_other_plan(home: AssetFolder, protocols: tuple[str, ...], resolution: int | None,
                      points: tuple[int, int] | None) -> bool:
    """Whether the item folder holds good views of another size, or points of another plan, than
    this evaluation asks for: they are the run's own (made by generate, used by other evaluations),
    so the ones asked for are made beside them, in the spill folder, instead of over them."""
    if resolution is not None:
        for protocol in protocols:  # the size asked for first: the common case reads the views once
            views = home.views_dir(protocol)
            if reusable_views(views, protocol, resolution, home.asset_path) is None and \
                    reusable_views(views, protocol, None, home.asset_path) is not None:
                return True
    if points is None:
        return False
    recorded = _recorded_plan(home.points_path)
    return recorded is not None and recorded != tuple(points) and points_reusable(home, recorded)


def _recorded_plan(points_path: Path) -> tuple[int, int] | None:
    try:
        recorded = json.loads(plan_path(points_path).read_text())
        return int(recorded["n_points"]), int(recorded["resolution"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def prepare_items(items: list[EvalItem], protocols: tuple[str, ...], resolution: int | None,
                  render_missing: bool = True, points: tuple[int, int] | None = None,
                  label: str = "run", executor: str | Executor | None = None, spill: Path | None = None
                  ) -> tuple[dict[str, list[list[Path]]], list[Path]]:
    """The view files of every protocol and (with ``points`` = (n_points, resolution)) the
    ``points.ply`` of every item; ({protocol: [files per item]}, [points path per item]).

    Existing views are reused when :func:`text3d.render.views.reusable_views` accepts them
    (their cameras are the protocol's, at ``resolution`` when given, and they show the current
    asset.glb); existing points when :func:`points_reusable` does. For the rest each item's
    asset is loaded once: its missing protocols are rendered in one batched call (shared
    cameras drawn once) at ``resolution`` (512 when None) and its points sampled (depth20 →
    back-projection → FPS). A truncated or corrupt asset.glb, or one that renders blank,
    raises :class:`InputError` naming the item. ``executor`` runs the items
    (:mod:`text3d.executors`; default this process). An item folder that cannot be written
    (:func:`writable`) keeps what it holds: its missing files are looked for, and made, in
    ``spill``/<item id> (without ``spill`` it is refused).
    """
    views: dict[str, list[list[Path] | None]] = {p: [] for p in protocols}
    point_files: list[Path] = []
    todo: list[tuple[int, list[str], bool, AssetFolder]] = []
    for index, item in enumerate(items):
        home = item.folder
        aside = spill is not None and (not writable(home.root)
                                       or _holds_other_plan(home, protocols, resolution, points))
        target = AssetFolder(Path(spill) / item.id) if aside else home
        missing = []
        for protocol in protocols:
            found = reusable_views(home.views_dir(protocol), protocol, resolution, home.asset_path)
            if found is None and target is not home:
                found = reusable_views(target.views_dir(protocol), protocol, resolution, home.asset_path)
            views[protocol].append(found)
            if found is None:
                missing.append(protocol)
        need_points = points is not None and not points_reusable(home, points)
        if need_points and target is not home and spilled_points_reusable(target, home.asset_path, points):
            need_points, point_folder = False, target
        else:
            point_folder = target if need_points else home
        point_files.append(point_folder.points_path)
        if missing or need_points:
            todo.append((index, missing, need_points, target))
    lacking = [(items[i], m) for i, m, _, _ in todo if m]
    if lacking and not render_missing:
        item, missing = lacking[0]
        raise InputError(f"{label}: {len(lacking)} items lack {'/'.join(missing)} views (first: {item.folder.root}; "
                         "missing, stale or of other cameras); leave out --no-render to render them (into --out "
                         "for a read-only run)")
    read_only = [items[i] for i, _, _, target in todo if spill is None and not writable(target.root)]
    if read_only:
        raise InputError(f"{label}: item folder {read_only[0].folder.root} is read-only and lacks views or points; "
                         "render them into a copy of the run, or evaluate through `text3d eval` (it writes them "
                         "under its --out folder)")
    jobs = [CompleteJob(str(target.root), str(items[i].folder.asset_path), tuple(m), resolution or DEFAULT_RESOLUTION,
                        points if p else None, f"{label} item {items[i].id}") for i, m, p, target in todo]
    stage = Stage(f"rendering/sampling ({label})", _no_models, complete_item)
    with using_executor(executor) as running:
        for position, _ in running.map(stage, jobs):
            index, missing, _, target = todo[position]
            for protocol in missing:
                views[protocol][index] = target.view_paths(protocol)
    if todo:
        log.info("%s: rendered views of %d and sampled points of %d items", label,
                 sum(1 for _, m, _, _ in todo if m), sum(1 for _, _, p, _ in todo if p))
    return {p: [list(files) for files in found] for p, found in views.items()}, point_files


def ensure_views(items: list[EvalItem], protocol: str, resolution: int | None, render_missing: bool = True,
                 label: str = "run") -> list[list[Path]]:
    """The view files of ``protocol`` for every item, rendering those missing or stale.

    ``resolution`` None accepts existing views of any size and renders missing ones at 512²;
    a number also re-renders views of another size. See :func:`prepare_items`.
    """
    return prepare_items(items, (protocol,), resolution, render_missing, None, label)[0][protocol]


def ensure_points(items: list[EvalItem], n_points: int, resolution: int, label: str = "run") -> list[Path]:
    """``points.ply`` of every item (depth20 → back-projection → FPS), sampling missing or stale ones."""
    return prepare_items(items, (), None, True, (n_points, resolution), label)[1]


PLY_TYPES = {"char": "i1", "uchar": "u1", "int8": "i1", "uint8": "u1", "short": "<i2", "ushort": "<u2",
             "int16": "<i2", "uint16": "<u2", "int": "<i4", "uint": "<u4", "int32": "<i4", "uint32": "<u4",
             "float": "<f4", "float32": "<f4", "double": "<f8", "float64": "<f8"}


def _binary_vertices(path: Path) -> np.ndarray | None:
    """The vertex table of a binary little-endian PLY whose first element is ``vertex`` with
    scalar properties (what ``write_point_ply`` writes), as a structured array; None for any
    other layout."""
    with open(path, "rb") as handle:
        if handle.readline().strip() != b"ply":
            return None
        fields, count, header_ok = [], None, False
        for _ in range(200):
            words = handle.readline().decode("ascii", "replace").split()
            if not words or words[0] in ("comment", "obj_info"):
                continue
            if words[0] == "format" and words[1:2] != ["binary_little_endian"]:
                return None
            if words[0] == "element":
                if count is not None:
                    break  # a later element: the vertex table is complete
                if words[1] != "vertex":
                    return None
                count = int(words[2])
            elif words[0] == "property":
                if words[1] == "list" or words[1] not in PLY_TYPES or count is None:
                    return None
                fields.append((words[2], PLY_TYPES[words[1]]))
            elif words[0] == "end_header":
                header_ok = True
                break
        if count is None or not fields:
            return None
        if not header_ok:  # skip the remaining header lines
            for _ in range(200):
                if handle.readline().strip() == b"end_header":
                    break
            else:
                return None
        dtype = np.dtype(fields)
        data = handle.read(dtype.itemsize * count)
    if len(data) != dtype.itemsize * count:
        return None
    return np.frombuffer(data, dtype)


def read_cloud(path: Path, channels: int = 3) -> np.ndarray:
    """A PLY point cloud in its file frame (y-up): (P, 3) positions, or (P, 6) with normals.

    Binary little-endian vertex tables are read directly (the values trimesh would give);
    other PLY files through trimesh.
    """
    try:
        table = _binary_vertices(path)
    except (OSError, ValueError, UnicodeError):
        table = None
    if table is not None and all(n in table.dtype.names for n in ("x", "y", "z")):
        points = np.stack([table["x"], table["y"], table["z"]], axis=1).astype(np.float32)
        names = table.dtype.names
    else:
        import trimesh

        cloud = trimesh.load(str(path), process=False)
        points = np.asarray(cloud.vertices, np.float32)
        table = cloud.metadata.get("_ply_raw", {}).get("vertex", {}).get("data")
        names = table.dtype.names if table is not None else ()
    if channels == 3:
        return points
    if not all(n in names for n in ("nx", "ny", "nz")):
        raise InputError(f"{path}: the point extractor needs normals (nx, ny, nz), which this PLY lacks")
    normals = np.stack([table["nx"], table["ny"], table["nz"]], axis=1).astype(np.float32)
    return np.concatenate([points, normals], axis=1)
