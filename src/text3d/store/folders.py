"""The folder contract (docs/architecture.md, "Folders on disk").

An **asset folder**::

    asset.glb                       the asset, y-up GLB
    meta.json                       prompt, caption, backend, model, seed, timings_s {stage: s}, version
    views/<protocol>/000.png …      renders in protocol order
    views/<protocol>/cameras.json   per view: yaw, pitch, radius, fov, intrinsics, c2w (OpenCV)
    points.ply                      4,000 points from depth20 (y-up), when computed
    points.json                     how they were sampled: n_points asked for, depth resolution
    turntable.gif                   preview, when computed

A **run folder**::

    run.yaml          the whole configuration of the run
    manifest.jsonl    one JSON object per line; the last line of an id wins
    items/<id>/       asset folders
    metrics.json, report.md, report.html, *.png   written by evaluation

The manifest is append-only while a run is going (a locked append per update, so several
processes can write at once and a crash loses at most the line being written); ``compact``
rewrites it atomically with one line per id in first-seen order.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import yaml
from filelock import FileLock

from text3d.errors import InputError, SettingsMismatchError
from text3d.store.atomic import append_lines, dumps_json, read_json_lines, read_mapping, write_json, write_text

log = logging.getLogger(__name__)

STATUS_DONE = "done"
STATUS_FAILED = "failed"
STATUS_PENDING = "pending"


class AssetFolder:
    """Paths and small helpers for one asset folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def asset_path(self) -> Path:
        return self.root / "asset.glb"

    @property
    def meta_path(self) -> Path:
        return self.root / "meta.json"

    @property
    def points_path(self) -> Path:
        return self.root / "points.ply"

    @property
    def gif_path(self) -> Path:
        return self.root / "turntable.gif"

    def views_dir(self, protocol: str) -> Path:
        return self.root / "views" / protocol

    def view_paths(self, protocol: str) -> list[Path]:
        """The view images of ``protocol`` listed in its cameras.json (empty if none)."""
        cameras = self.views_dir(protocol) / "cameras.json"
        if not cameras.exists():
            return []
        doc = json.loads(cameras.read_text())
        return [self.views_dir(protocol) / v["file"] for v in doc["views"]]

    def has_views(self, protocol: str, resolution: int | None = None) -> bool:
        """True when every view of ``protocol`` exists (at ``resolution`` if given)."""
        cameras = self.views_dir(protocol) / "cameras.json"
        if not cameras.exists():
            return False
        doc = json.loads(cameras.read_text())
        if resolution is not None and any(v["resolution"][0] != resolution for v in doc["views"]):
            return False
        return all((self.views_dir(protocol) / v["file"]).exists() for v in doc["views"])

    def read_meta(self) -> dict[str, Any]:
        return read_mapping(self.meta_path) if self.meta_path.exists() else {}

    def write_meta(self, meta: dict[str, Any]) -> Path:
        return write_json(self.meta_path, meta)

    def is_complete(self) -> bool:
        return self.asset_path.exists() and self.meta_path.exists()


class Manifest:
    """``manifest.jsonl``: one row per item, appended under a file lock."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = FileLock(str(self.path) + ".lock")

    def rows(self) -> dict[str, dict[str, Any]]:
        """The latest row of every id, in first-seen order; torn or malformed lines are skipped."""
        latest: dict[str, dict[str, Any]] = {}
        for row in read_json_lines(self.path):
            if "id" in row:
                latest.setdefault(row["id"], {}).update(row)
        return latest

    def update(self, row: dict[str, Any]) -> None:
        """Append ``row`` (must hold ``id``); later rows override earlier fields of that id."""
        if "id" not in row:
            raise ValueError("manifest rows need an 'id'")
        with self._lock:
            append_lines(self.path, dumps_json(row, indent=None) + "\n")

    def update_many(self, rows: list[dict[str, Any]]) -> None:
        """Append several rows under one lock."""
        if not rows:
            return
        with self._lock:
            append_lines(self.path, "".join(dumps_json(r, indent=None) + "\n" for r in rows))

    def compact(self, sort_key: str | None = None) -> None:
        """Rewrite atomically with one line per id (ordered by ``sort_key`` when given)."""
        with self._lock:
            rows = list(self.rows().values())
            if sort_key is not None:
                rows.sort(key=lambda r: (r.get(sort_key) is None, r.get(sort_key, 0)))
            write_text(self.path, "".join(dumps_json(r, indent=None) + "\n" for r in rows))

    def done_ids(self) -> set[str]:
        return {i for i, r in self.rows().items() if r.get("status") == STATUS_DONE}


class RunFolder:
    """A run folder: configuration, manifest and item asset folders."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.manifest = Manifest(self.root / "manifest.jsonl")

    @property
    def config_path(self) -> Path:
        return self.root / "run.yaml"

    @property
    def items_dir(self) -> Path:
        return self.root / "items"

    def item(self, item_id: str) -> AssetFolder:
        """The folder of item ``item_id``: ``items/<id>``; an id that is not one plain folder
        name (empty, ``.``, ``..``, with a path separator) is refused, so a manifest cannot
        point outside the run."""
        name = str(item_id)
        if name in ("", ".", "..") or "/" in name or "\\" in name or "\0" in name:
            raise InputError(f"run {self.root}: item id {name!r} is not a folder name (manifest.jsonl edited?)")
        return AssetFolder(self.items_dir / name)

    def exists(self) -> bool:
        return self.manifest.path.exists()

    def read_config(self) -> dict[str, Any]:
        if not self.config_path.exists():
            return {}
        return read_mapping(self.config_path, "yaml")

    def write_config(self, config: dict[str, Any]) -> Path:
        return write_text(self.config_path, yaml.safe_dump(config, sort_keys=True, allow_unicode=True))

    def claim(self, config: dict[str, Any], ignore: tuple[str, ...] = ("n",)) -> dict[str, Any]:
        """Check that this folder is new or holds the same job as ``config`` (run.yaml equal
        except for the keys in ``ignore``); returns the earlier run.yaml ({} when new).
        Two jobs are never merged into one run."""
        previous = self.read_config()
        if not previous and self.exists():
            raise InputError(f"--out {self.root}: has a manifest.jsonl but no run.yaml; give a new folder")
        differs = sorted(k for k in set(previous) | set(config)
                         if k not in ignore and previous.get(k) != config.get(k)) if previous else []
        if differs and self._settings_only():
            # A run that failed before it made anything (an LLM server that was not reachable): its
            # settings are all it left, so the corrected command takes the folder over.
            log.info("%s: an earlier run left only its settings; replacing them (%s differ)", self.root,
                     ", ".join(differs[:4]))
            return {}
        if differs:
            job = previous.get("task") or previous.get("dataset") or "another job"
            raise SettingsMismatchError(f"--out {self.root}: holds a run of {job} with other settings "
                                        f"({', '.join(differs[:4])} differ); give a new folder, or the same "
                                        "settings to resume", tuple(differs))
        return previous

    def _settings_only(self) -> bool:
        """Whether the folder holds run.yaml and nothing else but text3d's lock and scratch files."""
        return all(p.name == "run.yaml" or (p.name.startswith(".") and p.name.endswith((".tmp", ".lock")))
                   for p in self.root.iterdir())

    def done_items(self) -> list[tuple[dict[str, Any], AssetFolder]]:
        """(manifest row, asset folder) of every finished item, in manifest order."""
        return [(row, self.item(i)) for i, row in self.manifest.rows().items()
                if row.get("status") == STATUS_DONE]
