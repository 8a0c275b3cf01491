"""The pipeline: prompt → augment → generate → export → render, one asset or a batch.

One asset::

    from text3d import generate
    result = generate("small blue sailboat", out="out/sailboat")
    result.asset, result.caption, result.timings

A batch writes the run-folder contract (``run.yaml``, ``manifest.jsonl``, ``items/<id>/``)
and resumes: items whose manifest row says ``done`` and whose folder is complete are
skipped; a failed prompt gets a one-line error in its row and is retried next time.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from text3d.assets.asset import Asset
from text3d.errors import InputError, Text3DError, one_line
from text3d.generators.base import Condition, Generator, load_generator
from text3d.store.atomic import remove_stale_temporaries
from text3d.store.folders import STATUS_DONE, STATUS_FAILED, AssetFolder, RunFolder

log = logging.getLogger(__name__)

DEFAULT_BACKEND = "embedded"
DEFAULT_AUGMENT = "embedded"
MAX_PROMPT_CHARS = 2000


@dataclass
class GenerationResult:
    """A generated asset with its caption, settings and seconds per stage."""

    prompt: str
    caption: str
    asset: Asset
    backend: str
    model: str
    seed: int
    timings: dict[str, float]
    augment: dict[str, Any] | None = None
    info: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def meta(self) -> dict[str, Any]:
        import text3d

        return {"prompt": self.prompt, "caption": self.caption, "backend": self.backend, "model": self.model,
                "seed": self.seed, "timings_s": {k: round(v, 4) for k, v in self.timings.items()},
                "augment": self.augment, "info": self.info, "warnings": self.warnings,
                "version": text3d.__version__, "n_faces": self.asset.n_faces}


class Pipeline:
    """A configured augment + generate pipeline (load once, call many times)."""

    def __init__(self, backend: str = DEFAULT_BACKEND, augment: str = DEFAULT_AUGMENT, model: str | None = None,
                 device: str | None = None, steps: int | None = None, cfg: float | None = None,
                 candidates: int | None = None) -> None:
        if candidates is not None and candidates < 1:
            raise InputError(f"candidates {candidates}: give 1 or more")
        self.backend_name = backend
        self.augment_name = augment
        self.steps = steps
        self.cfg = cfg
        self.candidates = candidates
        self.generator: Generator = load_generator(backend, model, device)

    def __call__(self, prompt: str, seed: int = 0) -> GenerationResult:
        if not prompt or not prompt.strip():
            raise InputError("prompt is empty")
        if len(prompt) > MAX_PROMPT_CHARS:
            raise InputError(f"prompt has {len(prompt)} characters, more than {MAX_PROMPT_CHARS}")
        timings: dict[str, float] = {}
        augment_info = None
        caption = prompt
        if self.augment_name != "none":
            from text3d.prompts import augment

            start = time.perf_counter()
            result = augment(prompt, llm=self.augment_name, seed=seed)
            timings["augment"] = time.perf_counter() - start
            caption = result.caption or prompt
            augment_info = {k: v for k, v in result.to_dict().items() if k != "prompt"}
        start = time.perf_counter()
        output = self.generator.generate(Condition(prompt=prompt, caption=caption if caption != prompt else None),
                                         seed=seed, steps=self.steps, cfg=self.cfg, candidates=self.candidates)
        timings["generate"] = time.perf_counter() - start
        for warning in output.warnings:
            log.warning("%s", warning)
        return GenerationResult(prompt=prompt, caption=caption, asset=output.asset, backend=self.backend_name,
                                model=self.generator.model, seed=seed, timings=timings, augment=augment_info,
                                info=output.info, warnings=output.warnings)


def write_asset_folder(result: GenerationResult, out: str | Path, views: tuple[str, ...] = ("canonical4",),
                       resolution: int = 512, gif: bool = True) -> AssetFolder:
    """Export, render and describe ``result`` in the asset-folder contract (meta.json last)."""
    from text3d.assets.io import save_asset
    from text3d.render.preview import turntable_frames, write_gif
    from text3d.render.views import render_views

    folder = AssetFolder(out)
    start = time.perf_counter()
    save_asset(result.asset, folder.asset_path)
    result.timings["export"] = time.perf_counter() - start
    start = time.perf_counter()
    for protocol in views:
        render_views(result.asset, folder.views_dir(protocol), protocol, resolution)
    if gif:
        write_gif(folder.gif_path, turntable_frames(result.asset, frames=36, resolution=256))
    result.timings["render"] = time.perf_counter() - start
    folder.write_meta(result.meta())
    return folder


def generate(prompt: str, out: str | Path | None = None, augment: str = DEFAULT_AUGMENT,
             backend: str = DEFAULT_BACKEND, seed: int = 0, steps: int | None = None, cfg: float | None = None,
             model: str | None = None, device: str | None = None, views: tuple[str, ...] = ("canonical4",),
             resolution: int = 512, gif: bool = True, candidates: int | None = None) -> GenerationResult:
    """Generate one asset; with ``out``, also write its asset folder."""
    result = Pipeline(backend, augment, model, device, steps, cfg, candidates)(prompt, seed=seed)
    if out is not None:
        write_asset_folder(result, out, views, resolution, gif)
    return result


def generate_batch(prompts: list[str], out: str | Path, augment: str = DEFAULT_AUGMENT,
                   backend: str = DEFAULT_BACKEND, seed: int = 0, steps: int | None = None,
                   cfg: float | None = None, model: str | None = None, device: str | None = None,
                   views: tuple[str, ...] = ("canonical4",), resolution: int = 512, gif: bool = False,
                   progress: bool | None = None, candidates: int | None = None) -> dict[str, int]:
    """Generate every prompt into the run folder ``out``; resumable. Returns counts."""
    from text3d.data.toys4k import prompt_id
    from text3d.progress import track

    run = RunFolder(out)
    config = {"task": "generate", "backend": backend, "augment": augment, "model": model, "seed": seed,
              "steps": steps, "cfg": cfg, "views": list(views), "resolution": resolution}
    if candidates is not None:  # only when given, so that earlier run folders still resume
        config["candidates"] = candidates
    previous = run.read_config()
    if previous and {k: v for k, v in previous.items() if k != "n"} != config:
        raise InputError(f"{out}: holds a run with another configuration; use a new --out folder")
    run.write_config({**config, "n": len(prompts)})
    rows = run.manifest.rows()
    todo = [(i, p) for i, p in enumerate(prompts)
            if not (rows.get(prompt_id(i, p), {}).get("status") == STATUS_DONE
                    and run.item(prompt_id(i, p)).is_complete())]
    counts = {"done": 0, "failed": 0, "skipped": len(prompts) - len(todo)}
    pipeline = Pipeline(backend, augment, model, device, steps, cfg, candidates) if todo else None
    for index, prompt in track(todo, description="generate", enabled=progress):
        item_id = prompt_id(index, prompt)
        row: dict[str, Any] = {"id": item_id, "index": index, "prompt": prompt, "kind": "prompt"}
        remove_stale_temporaries(run.items_dir / item_id)
        try:
            result = pipeline(prompt, seed=seed + index)
            write_asset_folder(result, run.items_dir / item_id, views, resolution, gif)
            row.update({"status": STATUS_DONE, "caption": result.caption, "captions": [result.caption],
                        "outputs": {"asset": f"items/{item_id}/asset.glb"},
                        "timings_s": {k: round(v, 4) for k, v in result.timings.items()}})
            counts["done"] += 1
        except Text3DError as exc:
            row.update({"status": STATUS_FAILED, "error": one_line(str(exc))})
            counts["failed"] += 1
        run.manifest.update(row)
    run.manifest.compact(sort_key="index")
    return counts
