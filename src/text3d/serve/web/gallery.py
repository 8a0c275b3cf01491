"""What the web app's gallery and report show of a job's run folder.

The gallery lists every item of a job with its prompt kind, caption, thumbnail and per-asset
metrics: the face count and GLB size (read from the file's header, no mesh is parsed), the
seconds per stage, and — once the run was evaluated (``text3d eval --generated RUN --out RUN``
writes ``per_item.csv``, ``metrics.json`` and ``report.html`` beside the manifest, as the
run-folder contract says) — the evaluation's per-asset columns.

Prompt kinds are those of MATE-3D / T³Bench as toyworld writes its prompts: ``basic`` (color +
noun), ``refined`` (size, shape or material), ``complex`` (parts with their own colors or
counts), ``grouped`` (two objects). A manifest row that names its kind (a study's run) keeps
it; a typed prompt is read with toyworld's prompt parser.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field

from text3d.assets.probe import probe_face_count
from text3d.data.toys4k import prompt_id
from text3d.errors import InputError, one_line
from text3d.serve.jobs import Job, JobNotFound
from text3d.store.folders import STATUS_DONE

log = logging.getLogger(__name__)

THUMBNAIL_PROTOCOLS = ("canonical4", "clip8", "turntable", "depth20")
"""The first of these a job rendered gives each item's thumbnail (its view 000.png)."""
REPORT_FILES = ("report.html", "metrics.json", "per_item.csv")
"""The files of a run's evaluation the service serves; no other name is ever opened."""


class GalleryItem(BaseModel):
    """One asset of a run as the gallery shows it."""

    index: int
    prompt: str
    kind: str = Field(description="basic, refined, complex, grouped (or paraphrase, from a study's manifest).")
    state: str
    caption: str | None = None
    thumbnail: str | None = Field(None, description="The thumbnail's path under the item: views/canonical4/000.png.")
    metrics: dict[str, float] = Field(default_factory=dict, description="faces, glb_kib, seconds_total, then "
                                                                        "the evaluation's per-asset columns.")


class Gallery(BaseModel):
    """``GET /v1/jobs/{id}/gallery``: the job's assets, the kinds present and whether it was evaluated."""

    id: str
    state: str
    kinds: list[str]
    evaluated: bool = Field(description="The run holds an evaluation report (report.html).")
    metric_names: dict[str, str] = Field(description="Metric key → its column header.")
    items: list[GalleryItem]


@lru_cache(maxsize=4096)
def prompt_kind(prompt: str) -> str:
    """The kind of ``prompt``: grouped (a second object), complex (a part's color or count),
    refined (size, shape or material), else basic."""
    from text3d.data.toyworld.parse import parse_prompt

    parsed = parse_prompt(prompt)
    if parsed.partner is not None:
        return "grouped"
    if parsed.part_colors or parsed.counts:
        return "complex"
    if parsed.size or parsed.material or parsed.shape:
        return "refined"
    return "basic"


def evaluation_columns() -> dict[str, str]:
    """Per-asset metric key → header, in the evaluation registry's order."""
    from text3d.eval.registry import item_columns

    return {c.name: c.header for c in item_columns() if c.name}


def _per_item_metrics(run_root: Path) -> dict[str, dict[str, float]]:
    """Rows of the run's per_item.csv by item id: its numeric cells (empty when not evaluated)."""
    path = run_root / "per_item.csv"
    if not path.is_file():
        return {}
    try:
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        log.warning("%s: unreadable (%s); the gallery shows no evaluation metrics", path, one_line(str(exc)))
        return {}
    table: dict[str, dict[str, float]] = {}
    for row in rows:
        values: dict[str, float] = {}
        for key, cell in row.items():
            if key in (None, "id", "prompt", "caption") or not cell:
                continue
            try:
                number = float(cell)
            except ValueError:
                continue
            if math.isfinite(number):
                values[key] = number
        table[row.get("id") or ""] = values
    return table


def _asset_metrics(folder: Path, seconds: dict[str, float]) -> dict[str, float]:
    """faces and glb_kib from the GLB's header, seconds_total from the manifest row."""
    metrics: dict[str, float] = {}
    glb = folder / "asset.glb"
    if glb.is_file():
        metrics["glb_kib"] = round(glb.stat().st_size / 1024, 1)
        try:
            faces = probe_face_count(glb)
        except (InputError, OSError) as exc:  # a damaged file: the gallery still lists the item
            log.warning("%s", one_line(str(exc)))
            faces = None
        if faces is not None:
            metrics["faces"] = float(faces)
    if seconds:
        metrics["seconds_total"] = round(sum(seconds.values()), 3)
    return metrics


def gallery(job: Job) -> Gallery:
    """Every item of ``job`` with its kind, caption, thumbnail and metrics."""
    from text3d.data.toyworld.instance import KINDS  # toyworld builds its categories: only when asked for

    row_kinds = (*KINDS, "paraphrase")  # kinds a study's manifest row may name
    run = job.run
    rows = {row.get("index"): row for row in run.manifest.rows().values()}
    evaluation = _per_item_metrics(run.root)
    protocols = [p for p in THUMBNAIL_PROTOCOLS if p in job.request.options.views]
    items = []
    for index, prompt in enumerate(job.request.prompt_list()):
        row = rows.get(index) or {}
        if row.get("prompt") != prompt:
            row = {}
        item_id = prompt_id(index, prompt)
        kind = row.get("kind") if row.get("kind") in row_kinds else prompt_kind(prompt)
        state = row.get("status") or "pending"
        item = GalleryItem(index=index, prompt=prompt, kind=kind, state=state, caption=row.get("caption"))
        if state == STATUS_DONE:
            folder = run.item(item_id)
            item.thumbnail = next((f"views/{p}/000.png" for p in protocols
                                   if (folder.views_dir(p) / "000.png").is_file()), None)
            item.metrics = {**_asset_metrics(folder.root, row.get("timings_s") or {}), **evaluation.get(item_id, {})}
        items.append(item)
    names = {"faces": "Faces", "glb_kib": "GLB KiB", "seconds_total": "Seconds"}
    if evaluation:
        names.update(evaluation_columns())
    kinds = [k for k in row_kinds if any(i.kind == k for i in items)]
    return Gallery(id=job.id, state=job.state, kinds=kinds, evaluated=(run.root / "report.html").is_file(),
                   metric_names=names,
                   items=items)


def report_file(job: Job, name: str) -> Path:
    """The file ``name`` (one of :data:`REPORT_FILES`) of the job's evaluation; 404 before one exists."""
    if name not in REPORT_FILES:
        raise JobNotFound(f"{name[:40]!r}: a run's evaluation has {', '.join(REPORT_FILES)}")
    root = job.run.root
    path = root / name
    if not path.is_file() or not path.resolve().is_relative_to(root.resolve()):
        raise JobNotFound(f"job {job.id}: its run has no evaluation yet (no {name}); "
                          f"run text3d eval --generated {root} --out {root}")
    return path
