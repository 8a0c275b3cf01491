"""Real data sets in their published layouts → the run-folder contract.

* **Toys4K, TRELLIS style**: a folder of mesh files (OBJ as Toys4K ships them after
  conversion, or GLB/PLY) and TRELLIS's ``Toys4k.csv``. The CSV has one row per asset with
  ``sha256``, ``file_identifier`` (``<category>/<object>/<file>``) and ``captions``, a JSON
  list of strings. Meshes are matched to rows by file stem (and, when several files share it, by
  the folders of ``file_identifier``); the category is the first path component of ``file_identifier``.
* **Prompt lists** (T³Bench's ``prompt_single.txt``): one prompt per line; ``#`` comments
  and blank lines are skipped. They become pending manifest rows for ``text3d generate``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any

from text3d.assets.io import load_asset, save_asset
from text3d.assets.probe import MESH_SUFFIXES
from text3d.data.prompt_files import read_prompts
from text3d.errors import InputError, Text3DError, one_line
from text3d.limits import check_prompt_size
from text3d.progress import track
from text3d.render.views import render_views
from text3d.store.folders import STATUS_DONE, STATUS_FAILED, STATUS_PENDING, RunFolder
from text3d.text import MAX_PROMPT_WORDS, word_count

log = logging.getLogger(__name__)

csv.field_size_limit(10_000_000)


def read_toys4k_csv(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a TRELLIS ``Toys4k.csv`` with ``captions`` decoded to a list of strings."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a CSV file")
    if not path.exists():
        raise InputError(f"{path}: no such file")
    try:
        return _read_csv_rows(path)
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 CSV file") from None
    except csv.Error as exc:
        raise InputError(f"{path}: malformed CSV ({exc})") from None


HEX_DIGEST = re.compile(r"[0-9a-fA-F]{16,128}")
"""A ``sha256`` cell: its first 16 hex digits name the item's folder, so nothing else may pass."""


def item_id(row: dict[str, Any]) -> str:
    """The item's folder name: the first 16 digits of its ``sha256`` (lower case), else of the
    SHA-256 of its ``file_identifier``; never a path taken from the file."""
    sha = (row.get("sha256") or "").strip()
    return (sha or hashlib.sha256(row["file_identifier"].encode()).hexdigest())[:16].lower()


def _read_csv_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        if "file_identifier" not in fields:
            raise InputError(f"{path}: not a TRELLIS Toys4k.csv (no 'file_identifier' column; has {', '.join(fields)})")
        rows, lines = [], {}
        for number, row in enumerate(reader, 2):
            raw = row.get("captions") or "[]"
            try:
                captions = json.loads(raw)
            except json.JSONDecodeError:
                raise InputError(f"{path}:{number}: 'captions' is not a JSON list") from None
            if not isinstance(captions, list) or not all(isinstance(c, str) for c in captions):
                raise InputError(f"{path}:{number}: 'captions' must be a JSON list of strings")
            sha = (row.get("sha256") or "").strip()
            if sha and not HEX_DIGEST.fullmatch(sha):
                raise InputError(f"{path}:{number}: sha256 {sha[:40]!r} is not a hex digest")
            row["file_identifier"] = row.get("file_identifier") or ""
            row["captions"] = captions
            row["line"] = number
            row["id"] = item_id(row)
            if row["id"] in lines:
                raise InputError(f"{path}:{number}: item {row['id']} (sha256 or file_identifier) repeats line "
                                 f"{lines[row['id']]}")
            lines[row["id"]] = number
            rows.append(row)
    return rows


def _index_meshes(root: Path) -> dict[str, list[Path]]:
    """Mesh files under ``root`` by file stem (several folders may hold the same name)."""
    index: dict[str, list[Path]] = {}
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() in MESH_SUFFIXES and path.is_file():
            index.setdefault(path.stem, []).append(path)
    return index


def find_mesh(meshes: dict[str, list[Path]], root: Path, identifier: str) -> tuple[Path | None, str]:
    """The mesh file of a ``file_identifier`` and, when there is none, why. Among files of the same
    stem the one whose folders under ``root`` end with the identifier's folders wins (``b/x_000.blend``
    → ``…/b/x_000.obj``); files in two folders that match equally are ambiguous, not a guess (one
    folder's files of several formats are one object: the first in sorted order is taken)."""
    stem = Path(identifier).stem
    candidates = meshes.get(stem, [])
    if len(candidates) > 1:
        folders = Path(identifier).parent.parts
        depth = {p: _shared_tail(p.relative_to(root).parent.parts, folders) for p in candidates}
        best = max(depth.values())
        candidates = [p for p in candidates if depth[p] == best]
        if len({p.parent for p in candidates}) == 1:  # one object in several formats (x.glb, x.obj): as before
            candidates = candidates[:1]
    if not candidates:
        return None, f"no mesh file named {stem}.* under {root}"
    if len(candidates) > 1:
        shown = ", ".join(str(p.relative_to(root)) for p in candidates[:3])
        return None, f"{len(candidates)} mesh files named {stem}.* under {root} match {identifier!r} ({shown})"
    return candidates[0], ""


def _shared_tail(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    """How many trailing path parts ``a`` and ``b`` share."""
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def _usable(caption: str) -> bool:
    """A caption that can be a prompt: one line (no control character), a letter, within the limits."""
    try:
        check_prompt_size(caption)
    except InputError:
        return False
    return any(c.isalpha() for c in caption)


def _short_prompt(captions: list[str], category: str) -> str:
    """The shortest usable caption (:func:`_usable`, spaces collapsed) if it has at most
    MAX_PROMPT_WORDS (6) words, else the category name (TRELLIS has no short prompts)."""
    usable = [" ".join(c.split()) for c in captions if _usable(c)]
    short = min(usable, key=len) if usable else ""
    return short if short and word_count(short) <= MAX_PROMPT_WORDS else category.replace("_", " ")


def import_toys4k(root: str | Path, csv_path: str | Path, out: str | Path, limit: int | None = None,
                  views: tuple[str, ...] = ("canonical4",), resolution: int = 512) -> dict[str, int]:
    """Convert a Toys4K-style folder into a run folder (normalized GLBs + views); resumable."""

    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: not a folder")
    rows = read_toys4k_csv(csv_path)
    meshes = _index_meshes(root)
    run = RunFolder(out)
    previous = run.read_config()
    # the same folders spelled another way (relative from elsewhere, absolute) resume the same import
    same = {key: previous[key] for key, path in (("root", root), ("csv", Path(csv_path)))
            if previous.get(key) and Path(previous[key]).resolve() == path.resolve()}
    config = {"dataset": "toys4k", "root": str(root.resolve()), "csv": str(Path(csv_path).resolve()),
              "views": list(views), "resolution": resolution, "limit": limit, **same}
    run.claim(config, ignore=("limit",))
    run.write_config(config)
    done = run.manifest.done_ids()
    counts = {"done": 0, "failed": 0, "missing": 0, "skipped": 0}
    selected = rows[:limit] if limit else rows
    for row in track(selected, description="toys4k"):
        identifier = row["file_identifier"]
        stem = Path(identifier).stem
        key = row["id"]
        if key in done:
            counts["skipped"] += 1
            continue
        category = identifier.split("/")[0] if "/" in identifier else stem.rsplit("_", 1)[0]
        entry: dict[str, Any] = {"id": key, "category": category, "kind": "reference",
                                 "prompt": _short_prompt(row["captions"], category), "captions": row["captions"],
                                 "split": "reference", "source": identifier}
        mesh_path, error = find_mesh(meshes, root, identifier) if identifier else (
            None, f"{Path(csv_path).name} line {row['line']}: empty file_identifier (no mesh to look for)")
        if mesh_path is None:  # no file of that name ("without mesh"), or several that match equally
            counts["missing" if identifier and stem not in meshes else "failed"] += 1
            run.manifest.update({**entry, "status": STATUS_FAILED, "error": error})
            continue
        try:
            asset = load_asset(mesh_path).normalized()
            folder = run.item(key)
            save_asset(asset, folder.asset_path)
            for protocol in views:
                render_views(asset, folder.views_dir(protocol), protocol, resolution)
            folder.write_meta({**entry, "backend": "dataset", "model": "toys4k",
                               "caption": row["captions"][0] if row["captions"] else entry["prompt"]})
            run.manifest.update({**entry, "status": STATUS_DONE})
            counts["done"] += 1
        except Text3DError as exc:
            run.manifest.update({**entry, "status": STATUS_FAILED, "error": one_line(str(exc))})
            counts["failed"] += 1
    run.manifest.compact()
    return counts


def prompt_id(index: int, prompt: str) -> str:
    """Stable item id of the index-th prompt: ``p00012-<8 hex of its sha1>``."""
    return f"p{index:05d}-{hashlib.sha1(prompt.encode('utf-8')).hexdigest()[:8]}"


def import_prompt_list(path: str | Path, out: str | Path) -> int:
    """Write a run folder whose manifest lists every prompt as a pending item."""
    prompts = read_prompts(path)
    run = RunFolder(out)
    digest = hashlib.sha256("\n".join(prompts).encode("utf-8")).hexdigest()
    config = {"dataset": "prompts", "source": str(path), "n": len(prompts), "prompts_sha256": digest}
    previous = run.read_config()
    if previous.get("task") == "generate" and previous.get("prompts_sha256") == digest:
        log.info("%s: already a generate run of these prompts (it took over the prompt list); nothing to do", out)
        return len(prompts)
    run.claim(config, ignore=("source",))  # the prompts' digest names them; a copy elsewhere is the same list
    run.write_config(config)
    existing = run.manifest.rows()
    new_rows = [{"id": prompt_id(i, p), "index": i, "kind": "prompt", "prompt": p, "captions": [],
                 "split": "prompts", "status": STATUS_PENDING}
                for i, p in enumerate(prompts) if prompt_id(i, p) not in existing]
    run.manifest.update_many(new_rows)
    return len(prompts)
