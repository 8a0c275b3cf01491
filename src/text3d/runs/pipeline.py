"""The pipeline: prompt → augment → generate → export → render, one asset or a batch.

One asset::

    from text3d import generate
    result = generate("small blue sailboat", out="out/sailboat")
    result.asset, result.caption, result.timings

A batch writes the run-folder contract (``run.yaml``, ``manifest.jsonl``, ``items/<id>/``)
and resumes: items whose manifest row says ``done`` and whose folder is complete are
skipped; a failed prompt gets a one-line error in its row and is retried next time.

Outputs are checked before any model loads (:mod:`text3d.store.outputs`): one asset goes
into a new or empty folder (an earlier asset is replaced only with ``overwrite``), a batch
into a new run folder or the run of the same prompts and settings, and the folder is locked
(:mod:`text3d.store.locks`) while it is written.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from text3d.assets.asset import Asset
from text3d.assets.io import save_asset
from text3d.data.toys4k import prompt_id
from text3d.errors import InputError, Text3DError, one_line
from text3d.executors import Executor, Stage, check_executor, using_executor
from text3d.generators.base import Condition, Generator, backend_options, create_generator, generators
from text3d.limits import (
    MAX_ITEMS,
    check_range,
    check_seed,
)
from text3d.prompts.augment import augment, prepare_augmenter, server_options
from text3d.render.preview import turntable_frames, write_gif
from text3d.render.views import render_views
from text3d.runs.checks import check_arguments, check_augment, check_conditioning, check_prompt, check_settings
from text3d.store.atomic import remove_stale_temporaries
from text3d.store.folders import STATUS_DONE, STATUS_FAILED, STATUS_PENDING, AssetFolder, RunFolder
from text3d.store.locks import exclusive, folder_lock
from text3d.store.outputs import (
    check_asset_output,
    check_not_input,
    check_run_output,
    removed_if_failed,
    replace_asset_outputs,
    staging_folder,
)
from text3d.version import __version__

if TYPE_CHECKING:
    from text3d.align.sampling import TokenSource

log = logging.getLogger(__name__)

DEFAULT_BACKEND = "embedded"
DEFAULT_AUGMENT = "embedded"


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
        return {"prompt": self.prompt, "caption": self.caption, "backend": self.backend, "model": self.model,
                "seed": self.seed, "timings_s": {k: round(v, 4) for k, v in self.timings.items()},
                "augment": self.augment, "info": self.info, "warnings": self.warnings,
                "version": __version__, "n_faces": self.asset.n_faces}


class Pipeline:
    """A configured augment + generate pipeline (load once, call many times).

    ``steps`` and ``cfg`` go to every ``generate`` call; ``candidates`` is an option of the
    backend's constructor (the embedded backend's best-of-K), refused in one line by a backend
    without it. With ``conditioning="gap3d"``, ``aligner`` is a trained aligner's folder (default:
    the shipped stage-2 one) or any :class:`~text3d.align.sampling.TokenSource`."""

    def __init__(self, backend: str = DEFAULT_BACKEND, augment: str = DEFAULT_AUGMENT, model: str | None = None,
                 device: str | None = None, steps: int | None = None, cfg: float | None = None,
                 candidates: int | None = None, timeout_s: float | None = None, conditioning: str = "text",
                 aligner: str | Path | TokenSource | None = None) -> None:
        check_settings(steps, cfg, candidates)
        check_range("timeout", timeout_s, 1e-3)
        check_conditioning(conditioning, backend, aligner)
        self.timeout_s = timeout_s
        self.backend_name = backend
        self.augment_name = augment
        self._server_options = server_options(augment, timeout_s)  # said once here if the timeout is unused
        self.steps = steps
        self.cfg = cfg
        if augment != "none":  # loaded now: an item's augment time is its caption's, not a model load
            prepare_augmenter(augment, **self._server_options)
        self.generator: Generator = create_generator(backend, model, device, candidates=candidates)
        self.aligner: TokenSource | None = None
        if conditioning == "gap3d" and (aligner is None or isinstance(aligner, (str, Path))):
            from text3d.align.sampling import TokenAligner  # imports torch, like the generator it feeds

            self.aligner = TokenAligner.from_pretrained(aligner, device)
        elif conditioning == "gap3d":
            self.aligner = aligner

    def __call__(self, prompt: str, seed: int = 0) -> GenerationResult:
        check_prompt(prompt)
        check_seed("seed", seed)
        timings: dict[str, float] = {}
        augment_info = None
        caption = prompt
        if self.augment_name != "none":
            start = time.perf_counter()
            result = augment(prompt, llm=self.augment_name, seed=seed, **self._server_options)
            timings["augment"] = time.perf_counter() - start
            caption = result.caption or prompt
            augment_info = {k: v for k, v in result.to_dict().items() if k != "prompt"}
        tokens = None
        if self.aligner is not None:  # GAP3D: the caption's generated image-encoder tokens condition the backend
            start = time.perf_counter()
            tokens = self.aligner(caption, seed)
            timings["align"] = time.perf_counter() - start
        start = time.perf_counter()
        output = self.generator.generate(Condition(prompt=prompt, caption=caption if caption != prompt else None,
                                                   tokens=tokens), seed=seed, steps=self.steps, cfg=self.cfg)
        timings["generate"] = time.perf_counter() - start
        if self.aligner is not None:
            output.info["conditioning"] = self.aligner.describe()
        for warning in output.warnings:
            log.warning("%s", warning)
        return GenerationResult(prompt=prompt, caption=caption, asset=output.asset, backend=self.backend_name,
                                model=self.generator.model, seed=seed, timings=timings, augment=augment_info,
                                info=output.info, warnings=output.warnings)


def write_asset_folder(result: GenerationResult, out: str | Path, views: tuple[str, ...] = ("canonical4",),
                       resolution: int = 512, gif: bool = True) -> AssetFolder:
    """Export, render and describe ``result`` in the asset-folder contract (meta.json last)."""

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
             resolution: int = 512, gif: bool = True, candidates: int | None = None,
             timeout_s: float | None = None, overwrite: bool = False, wait_s: float = 0.0,
             conditioning: str = "text", aligner: str | Path | TokenSource | None = None) -> GenerationResult:
    """Generate one asset; with ``out``, also write its asset folder (an earlier asset there is
    replaced only with ``overwrite``; ``wait_s`` waits for another writer of ``out``).
    ``candidates`` is the backend's option (see :class:`Pipeline`), checked before any output."""
    check_arguments(augment, backend, seed, steps, cfg, candidates, resolution, views, conditioning, out,
                    gif=gif, overwrite=overwrite)
    check_prompt(prompt)
    check_settings(steps, cfg, candidates, resolution)
    backend_options(backend, candidates=candidates)
    check_conditioning(conditioning, backend, aligner)
    check_augment(augment)
    check_seed("seed", seed)
    if out is None:
        return Pipeline(backend, augment, model, device, steps, cfg, candidates, timeout_s, conditioning,
                        aligner)(prompt, seed=seed)
    check_asset_output(out, overwrite)
    pipeline = Pipeline(backend, augment, model, device, steps, cfg, candidates, timeout_s, conditioning, aligner)
    with removed_if_failed(out), exclusive(folder_lock(out), str(out), wait_s):
        check_asset_output(out, overwrite)  # again, now that no other writer can change it
        result = pipeline(prompt, seed=seed)
        # Written aside, then renamed into place (meta.json last): an interrupted writer leaves no
        # half-written asset in a new folder, and the earlier asset whole in an old one.
        Path(out).mkdir(parents=True, exist_ok=True)
        staged = staging_folder(out)
        try:
            write_asset_folder(result, staged, views, resolution, gif)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        replace_asset_outputs(staged, out)
    return result


def generate_batch(prompts: list[str], out: str | Path, augment: str = DEFAULT_AUGMENT,
                   backend: str = DEFAULT_BACKEND, seed: int = 0, steps: int | None = None,
                   cfg: float | None = None, model: str | None = None, device: str | None = None,
                   views: tuple[str, ...] = ("canonical4",), resolution: int = 512, gif: bool = False,
                   progress: bool | None = None, candidates: int | None = None, timeout_s: float | None = None,
                   source: str | Path | None = None, wait_s: float = 0.0, conditioning: str = "text",
                   aligner: str | Path | TokenSource | None = None,
                   executor: str | Executor | None = None) -> dict[str, int]:
    """Generate every prompt (read from ``source``) into the run folder ``out``; resumable.
    ``conditioning`` and ``aligner`` as in :class:`Pipeline`; ``executor`` runs the items (``local``,
    ``ray[:ADDRESS]`` or an :class:`~text3d.executors.Executor`; the outputs are the same). Returns counts."""
    check_arguments(augment, backend, seed, steps, cfg, candidates, resolution, views, conditioning, out, gif=gif)
    if isinstance(prompts, str) or not all(isinstance(p, str) for p in prompts):
        raise InputError("prompts: expected a list of prompts (str)")
    check_settings(steps, cfg, candidates, resolution)
    backend_options(backend, candidates=candidates)
    check_conditioning(conditioning, backend, aligner)
    check_augment(augment)
    check_executor(executor)
    if not prompts:
        raise InputError("no prompts to generate")
    if len(prompts) > MAX_ITEMS:
        raise InputError(f"{len(prompts):,} prompts, more than {MAX_ITEMS:,} in one batch")
    check_seed("seed", seed, len(prompts))
    if source is not None:
        check_not_input(out, [source])
    check_run_output(out)
    config = batch_config(prompts, augment, backend, seed, steps, cfg, model, views, resolution, candidates,
                          conditioning, aligner)
    with exclusive(folder_lock(out), str(out), wait_s):
        check_run_output(out)
        _claim_run(RunFolder(out), config, prompts)
        pipeline = functools.partial(Pipeline, backend, augment, model, device, steps, cfg, candidates, timeout_s,
                                     conditioning, aligner)
        return _generate_locked(prompts, RunFolder(out), pipeline, seed, views, resolution, gif, progress,
                                executor, device)


def batch_config(prompts: list[str], augment: str = DEFAULT_AUGMENT, backend: str = DEFAULT_BACKEND,
                 seed: int = 0, steps: int | None = None, cfg: float | None = None, model: str | None = None,
                 views: tuple[str, ...] = ("canonical4",), resolution: int = 512, candidates: int | None = None,
                 conditioning: str = "text", aligner: str | Path | TokenSource | None = None) -> dict[str, Any]:
    """The run.yaml a :func:`generate_batch` with these arguments claims its folder with: a folder
    holding another one is another job, refused rather than resumed."""
    config = {"task": "generate", "backend": backend, "augment": augment, "model": model, "seed": seed,
              "steps": steps, "cfg": cfg, "views": list(views), "resolution": resolution}
    if candidates is not None:  # only when given, so that earlier run folders still resume
        config["candidates"] = candidates
    digest = generators.get(backend).weights_sha256(model)
    if digest is not None:  # other weights at the same path (a retrained shipped model) are another run
        config["model_sha256"] = digest
    if conditioning != "text":  # likewise
        config["conditioning"] = conditioning
        if aligner is None or isinstance(aligner, (str, Path)):
            from text3d.align.sampling import aligner_record  # a folder: record its weights' digest

            record: Any = aligner_record(aligner)
        else:
            record = aligner.describe() if hasattr(aligner, "describe") else str(aligner)
        if isinstance(record, dict) and "aligner" in record:  # the weights' digest identifies them, not
            record = dict(record)                             # where they lie: a moved copy resumes
            config["aligner_path"] = str(record.pop("aligner"))
        config["aligner"] = record
    config["prompts_sha256"] = hashlib.sha256("\n".join(prompts).encode("utf-8")).hexdigest()
    return config


def check_resumable(out: str | Path, config: dict[str, Any], prompts: list[str]) -> None:
    """Refuse, before any work, a run folder ``out`` that holds another job than ``config`` (from
    :func:`batch_config`) would claim; a new folder, or one of the same job, passes. Writes nothing."""
    run = RunFolder(out)
    if run.read_config() and not _adopts_prompt_list(run, config):
        previous = run.claim(config, ignore=_CLAIM_IGNORES)
        _check_same_prompts(run, previous, config, prompts)


_CLAIM_IGNORES = ("n", "prompts_sha256", "aligner_path")


def _check_same_prompts(run: RunFolder, previous: dict[str, Any], config: dict[str, Any], prompts: list[str]) -> None:
    same = previous.get("prompts_sha256") == config["prompts_sha256"] if "prompts_sha256" in previous \
        else _same_prompts(run, prompts)
    if not same:
        raise InputError(f"--out {run.root}: holds a run of other prompts; give a new folder "
                         "(or the same prompts file to resume)")


def _adopts_prompt_list(run: RunFolder, config: dict[str, Any]) -> bool:
    """Whether ``run`` is a prompt list of pending items (``text3d data prompts``) that this batch takes
    over: the same prompts, none generated yet. Other prompts are refused in one line."""
    previous = run.read_config()
    if previous.get("dataset") != "prompts" or "task" in previous:
        return False
    if previous.get("prompts_sha256") != config["prompts_sha256"]:
        raise InputError(f"--out {run.root}: holds a prompt list (`text3d data prompts`) of other prompts than "
                         "--prompts; give its own prompts file, or a new folder")
    return all(row.get("status") == STATUS_PENDING for row in run.manifest.rows().values())


def _claim_run(run: RunFolder, config: dict[str, Any], prompts: list[str]) -> None:
    """Refuse a run folder of another job: another task, other settings or other prompts; a prompt
    list of the same prompts (:func:`_adopts_prompt_list`) becomes this batch's run."""
    if not (run.read_config() and _adopts_prompt_list(run, config)):
        previous = run.claim(config, ignore=_CLAIM_IGNORES)
        if previous:
            _check_same_prompts(run, previous, config, prompts)
    run.write_config({**config, "n": len(prompts)})


def _same_prompts(run: RunFolder, prompts: list[str]) -> bool:
    """For runs written before run.yaml held a hash: every manifest row's prompt is at its index."""
    for row in run.manifest.rows().values():
        index = row.get("index")
        if not isinstance(index, int) or index >= len(prompts) or prompts[index] != row.get("prompt"):
            return False
    return True


@dataclass(frozen=True)
class ItemJob:
    """One batch item for the generate stage: where it goes and how it is rendered."""

    index: int
    prompt: str
    seed: int
    folder: str
    views: tuple[str, ...]
    resolution: int
    gif: bool


def generate_item(pipeline: Pipeline, job: ItemJob) -> dict[str, Any]:
    """The generate stage on one item: generate, write its asset folder, return its manifest row
    (``status`` failed with a one-line ``error`` when the pipeline refuses the prompt)."""
    item_id = Path(job.folder).name
    row: dict[str, Any] = {"id": item_id, "index": job.index, "prompt": job.prompt, "kind": "prompt"}
    try:
        result = pipeline(job.prompt, seed=job.seed)
        write_asset_folder(result, job.folder, job.views, job.resolution, job.gif)
        row.update({"status": STATUS_DONE, "caption": result.caption, "captions": [result.caption],
                    "outputs": {"asset": f"items/{item_id}/asset.glb"},
                    "timings_s": {k: round(v, 4) for k, v in result.timings.items()},
                    **({"warnings": list(result.warnings)} if result.warnings else {})})
    except Text3DError as exc:
        row.update({"status": STATUS_FAILED, "error": one_line(str(exc))})
    return row


def _generate_locked(prompts: list[str], run: RunFolder, make_pipeline: Callable[[], Pipeline], seed: int,
                     views: tuple[str, ...], resolution: int, gif: bool, progress: bool | None,
                     executor: str | Executor | None = None, device: str | None = None) -> dict[str, int]:
    rows = run.manifest.rows()
    todo = [(i, p) for i, p in enumerate(prompts)
            if not (rows.get(prompt_id(i, p), {}).get("status") == STATUS_DONE
                    and run.item(prompt_id(i, p)).is_complete())]
    counts = {"done": 0, "failed": 0, "skipped": len(prompts) - len(todo)}
    jobs = [ItemJob(index, prompt, seed + index, str(run.items_dir / prompt_id(index, prompt)), tuple(views),
                    resolution, gif) for index, prompt in todo]
    for job in jobs:
        remove_stale_temporaries(Path(job.folder))
    # the executor calls make_pipeline once per worker, and not at all when every item is done
    stage = Stage("generate", make_pipeline, generate_item, gpu=True, device=device)
    with using_executor(executor) as running:
        for _, row in running.map(stage, jobs, progress=progress):
            counts["done" if row["status"] == STATUS_DONE else "failed"] += 1
            run.manifest.update(row)  # as each item finishes: a killed batch keeps it
    run.manifest.compact(sort_key="index")
    return counts
