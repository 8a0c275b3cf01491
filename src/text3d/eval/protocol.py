"""The standard evaluation protocol on run folders: :func:`evaluate_run` → :class:`EvaluationResult`.

``evaluate_run(generated, out, reference, options)`` completes the inputs (renders missing
views, samples missing point clouds), extracts the features the registered metrics need
(:mod:`text3d.eval.registry`) through a cache, computes every metric and returns the typed
result; the caller writes it (:func:`text3d.eval.report.write_reports`). With the default
registry it computes:

* per image extractor, against the reference set: ``fd_<ext>`` and ``kd_<ext>`` (KD ×100, as
  GAP3D prints it; ``kd_std_<ext>`` its subset std ×100) over all ``canonical4`` views of all
  assets (GAP3D App. C: 4 views per asset);
* per point extractor: ``fd_points_<ext>`` on ``points.ply`` (depth20 → 4,000 points);
* ``fd_per_asset`` {mean, std, min, max}: for the first image extractor, the FD between each
  generated asset's views and the whole reference set (the FD statistics of Table I of the
  LLM-augmentation study for TRELLIS pipelines); see :func:`text3d.eval.metrics.per_asset_fd`;
* with the first joint-space extractor (CLIP): ``clip_user`` / ``clip_aug`` = 100·cos between each
  ``clip8`` view and the item's prompt / caption, averaged over views then items, and
  ``clip_delta`` = mean over items with a caption of (aug − user) (the LLM-augmentation study);
  ``r_at_1/5/10`` (%) = share of assets whose own prompt ranks in the top K among the run's
  distinct prompts, by the cosine of the asset's view-averaged (unit-normalized) image
  embedding (PRD / TriplaneTurbo, Ma et al., 2025); with fewer than 2 distinct prompts R@K
  means nothing (every asset ranks first), so it is null and the result carries a warning;
* ``latency_s`` {stage: {mean, median, p95}} from meta.json ``timings_s`` (plus ``total``, the
  per-item sum of stages, unless a ``total`` stage is recorded).

Without a reference only the reference-free metrics are computed. With one, each run needs at
least 2 items (FD needs a covariance per set): a one-item run is refused before any work. Items
are sorted by id, KD subsets are seeded and floats are rounded, so equal inputs give a
byte-identical metrics.json. An evaluation killed midway resumes from its feature cache and
from the views and points already written into the run folders.
"""

from __future__ import annotations

import gc
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from text3d.encoders.base import FeatureExtractor, create_extractor, extractors
from text3d.errors import InputError, one_line
from text3d.eval.features import FeatureCache, default_cache_dir, image_group_features, point_cloud_features
from text3d.eval.features import text_features as cached_text_features
from text3d.eval.inputs import EvalItem, load_items, prepare_items, read_cloud, run_identity, unfinished_items
from text3d.eval.metric_inputs import Input, MetricInputs
from text3d.eval.registry import METRICS, Metric, MetricRegistry
from text3d.eval.results import AssetRow, EvaluationProtocol, EvaluationResult, rounded
from text3d.executors import Executor, check_executor, using_executor
from text3d.render.points import ply_vertex_count

log = logging.getLogger(__name__)

DEFAULT_EXTRACTORS: tuple[str, ...] = ("embedded", "embedded-clip")
"""Extractors used when none are named: the shipped embedded encoders (ViT CLS + PointNet
features for FD/KD and FD_points; the CLIP-like joint space for CLIP scores and R@K)."""


@dataclass
class EvalOptions:
    """Settings of one evaluation (defaults: the papers' protocol)."""

    extractors: tuple[str, ...] = ()
    views: str = "canonical4"
    clip_views: str = "clip8"
    resolution: int | None = None
    point_resolution: int = 256
    n_points: int = 4000
    kd_subsets: int = 100
    kd_subset_size: int = 1000
    seed: int = 0
    weights: dict[str, str] = field(default_factory=dict)
    device: str | None = None
    cache_dir: Path | None = None
    render_missing: bool = True
    system: str | None = None
    family: str | None = None


@dataclass(frozen=True)
class ExtractorRole:
    """What one named extractor can give, read from its registered class's attributes."""

    name: str
    image: bool
    points: bool
    joint: bool

    def offers(self, capabilities: frozenset[str]) -> bool:
        """True when it gives every capability in ``capabilities`` (image, points, joint)."""
        own = {"image": self.image, "points": self.points, "joint": self.joint}
        return all(own[c] for c in capabilities)


def plan_extractors(names: tuple[str, ...], options: EvalOptions) -> list[ExtractorRole]:
    """Check the names and weights and return each extractor's role (no model is loaded)."""
    if not names:
        raise InputError(f"name the feature extractors with --extractors (known: {', '.join(extractors.names())})")
    unknown = sorted(set(options.weights) - set(names))
    if unknown:
        raise InputError(f"--weights given for {', '.join(unknown)}, which is not among --extractors")
    roles = []
    for name in names:
        modalities = frozenset(getattr(extractors.get(name), "modalities", ()))
        roles.append(ExtractorRole(name, "image" in modalities, "points" in modalities,
                                   bool(getattr(extractors.get(name), "joint_space", False))
                                   and {"image", "text"} <= modalities))
    if not any(r.image or r.points for r in roles):
        raise InputError("none of the extractors gives image or point features")
    return roles


def plan_metrics(roles: list[ExtractorRole], has_reference: bool,
                 registry: MetricRegistry = METRICS) -> list[tuple[Metric, str | None]]:
    """(metric, extractor) pairs to compute, in registry order: a per-extractor metric with every
    extractor that gives its inputs, any other with the first such (None: needs no extractor);
    metrics reading the reference only when there is one."""
    plan: list[tuple[Metric, str | None]] = []
    for metric in registry:
        if metric.needs_reference and not has_reference:
            continue
        if not metric.capabilities:
            plan.append((metric, None))
            continue
        capable = [r.name for r in roles if r.offers(metric.capabilities)]
        plan += [(metric, name) for name in (capable if metric.per_extractor else capable[:1])]
    return plan


@dataclass(frozen=True)
class _Sources:
    """The files the features are read from: view files per item, point clouds per item."""

    views: list[list[Path]] | None
    reference_views: list[list[Path]] | None
    clip_views: list[list[Path]] | None
    points: list[Path] | None
    reference_points: list[Path] | None


def _prepare(items: list[EvalItem], ref_items: list[EvalItem] | None, needed: set[Input],
             options: EvalOptions, executor: str | Executor | None = None, derived: Path | None = None) -> _Sources:
    """Render missing views and sample missing points for the inputs in ``needed``; for items
    whose folder cannot be written, into ``derived``/{generated,reference}/<item id>."""
    protocols = tuple(dict.fromkeys(([options.views] if Input.VIEWS in needed else [])
                                    + ([options.clip_views] if Input.CLIP_VIEWS in needed else [])))
    point_plan = (options.n_points, options.point_resolution)
    views, points = prepare_items(items, protocols, options.resolution, options.render_missing,
                                  point_plan if Input.POINTS in needed else None, "generated", executor,
                                  derived / "generated" if derived else None)
    ref_views: dict[str, list[list[Path]]] = {}
    ref_points: list[Path] = []
    if ref_items is not None:
        ref_views, ref_points = prepare_items(
            ref_items, (options.views,) if Input.REFERENCE_VIEWS in needed else (), options.resolution,
            options.render_missing, point_plan if Input.REFERENCE_POINTS in needed else None, "reference",
            executor, derived / "reference" if derived else None)
    return _Sources(views.get(options.views) if Input.VIEWS in needed else None,
                    ref_views.get(options.views) if Input.REFERENCE_VIEWS in needed else None,
                    views.get(options.clip_views) if Input.CLIP_VIEWS in needed else None,
                    points if Input.POINTS in needed else None,
                    ref_points if Input.REFERENCE_POINTS in needed else None)


def _metric_inputs(ext: FeatureExtractor, needed: set[Input], sources: _Sources, items: list[EvalItem],
                   cache: FeatureCache, options: EvalOptions) -> MetricInputs:
    """The features of ``ext`` that the inputs in ``needed`` name (through the cache)."""
    filled: dict[str, Any] = {}
    if Input.VIEWS in needed:
        filled["views"] = tuple(image_group_features(ext, sources.views, cache,
                                                     description=f"generated {options.views}"))
    if Input.REFERENCE_VIEWS in needed:
        filled["reference_views"] = np.concatenate(image_group_features(
            ext, sources.reference_views, cache, description=f"reference {options.views}"))
    if Input.POINTS in needed:
        filled["points"] = point_cloud_features(ext, sources.points, cache, read_cloud)
    if Input.REFERENCE_POINTS in needed:
        filled["reference_points"] = point_cloud_features(ext, sources.reference_points, cache, read_cloud)
    if Input.CLIP_VIEWS in needed:
        filled["clip_views"] = tuple(image_group_features(ext, sources.clip_views, cache,
                                                          description=f"{options.clip_views} views"))
    if Input.PROMPTS in needed:
        filled["prompts"] = cached_text_features(ext, [item.prompt for item in items], cache)
    if Input.CAPTIONS in needed:
        captioned = [i for i, item in enumerate(items) if item.caption]
        rows = cached_text_features(ext, [items[i].caption or "" for i in captioned], cache)
        filled["captions"] = dict(zip(captioned, rows))
    return _inputs(ext.name, items, options, **filled)


def _inputs(extractor: str | None, items: list[EvalItem], options: EvalOptions, **filled: Any) -> MetricInputs:
    return MetricInputs(extractor, tuple(item.prompt for item in items),
                        timings=tuple(item.timings_s for item in items), kd_subsets=options.kd_subsets,
                        kd_subset_size=options.kd_subset_size, seed=options.seed, **filled)


def _check_sizes(items: list[EvalItem], ref_items: list[EvalItem] | None, generated: str | Path,
                 reference: str | Path | None) -> None:
    if ref_items is None:
        return
    for run_label, run_dir, count in (("generated", generated, len(items)), ("reference", reference, len(ref_items))):
        if count < 2:
            raise InputError(f"{run_label} run {run_dir}: {count} finished item; FD and KD need at least 2 per "
                             "set (a covariance), so evaluate at least 2 items or leave out --reference")


def evaluate_run(generated: str | Path, out: str | Path, reference: str | Path | None = None,
                 options: EvalOptions | None = None, registry: MetricRegistry = METRICS,
                 executor: str | Executor | None = None) -> EvaluationResult:
    """Evaluate the run folder ``generated`` (against ``reference`` if given) with the metrics of
    ``registry``; returns the result and writes no report.

    ``out`` is the evaluation folder: the feature cache lives in ``out/cache/features`` unless
    ``options.cache_dir`` or ``$TEXT3D_CACHE_DIR`` names another place. Missing views and points
    are written into the run folders' items (into ``out/derived/`` for a run that cannot be
    written, e.g. a read-only reference set), by ``executor`` (:mod:`text3d.executors`: ``local``,
    ``ray[:ADDRESS]``; features and metrics are computed here either way, so the figures are the same).
    """
    options = options or EvalOptions()
    items = load_items(generated, "generated")
    ref_items = load_items(reference, "reference") if reference is not None else None
    names = tuple(dict.fromkeys(options.extractors or DEFAULT_EXTRACTORS))
    roles = plan_extractors(names, options)
    plan = plan_metrics(roles, ref_items is not None, registry)
    if ref_items is None and not any(extractor for _, extractor in plan):
        raise InputError("without --reference only CLIP metrics exist; add a joint image-text extractor")
    _check_sizes(items, ref_items, generated, reference)
    cache = FeatureCache(options.cache_dir or default_cache_dir(out))
    check_executor(executor)
    with using_executor(executor) as running:  # one cluster for the generated and the reference run
        sources = _prepare(items, ref_items, {i for metric, _ in plan for i in metric.inputs}, options, running,
                           Path(out) / "derived")

    values: dict[str, Any] = {}
    per_item: list[dict[str, float | None]] = [{} for _ in items]
    warnings: list[str] = _sparse_cloud_warnings(sources, options)
    sizes = _view_sizes(sources)
    if len(sizes) > 1:
        warnings.append(f"the views read have {len(sizes)} sizes ({', '.join(f'{s}²' for s in sizes)}): FD and CLIP "
                        "compare images of other sizes; --resolution N renders every view at one size")
    n_failed, first_error = unfinished_items(generated)
    if n_failed:
        warnings.insert(0, f"{n_failed} of {n_failed + len(items)} items of the generated run failed or are "
                           f"unfinished and are not evaluated (first: {one_line(first_error, 100)})")
    settings: dict[str, Any] = {}

    def compute(metric: Metric, inputs: MetricInputs) -> None:
        measured = metric.compute(inputs)
        settings.update({name: getattr(options, name) for name in metric.settings})
        if metric.recorded_as:
            settings[metric.recorded_as] = inputs.extractor
        if measured is None:
            return
        values[metric.key_for(inputs.extractor)] = measured.value
        warnings.extend(measured.warnings)
        if metric.item_column is not None and metric.item_column.name:
            for row, value in zip(per_item, measured.per_item):
                if value is not None:
                    row[metric.item_column.name] = value

    for role in roles:  # one model in memory at a time
        metrics = [metric for metric, extractor in plan if extractor == role.name]
        if not metrics:
            continue
        ext = create_extractor(role.name, weights=options.weights.get(role.name), device=options.device)
        inputs = _metric_inputs(ext, {i for m in metrics for i in m.inputs}, sources, items, cache, options)
        del ext
        gc.collect()
        for metric in metrics:
            compute(metric, inputs)
    for metric in (metric for metric, extractor in plan if extractor is None):
        compute(metric, _inputs(None, items, options))

    system, family = run_identity(generated)
    thumbnails = _thumbnail_sources(items, sources)
    return EvaluationResult(
        system=options.system or system, family=options.family or family, n_items=len(items),
        n_reference=len(ref_items) if ref_items is not None else None, values=rounded(values),
        protocol=EvaluationProtocol(extractors=names, views=options.views, seed=options.seed, **settings,
                                    view_resolution=(sizes[0] if len(sizes) == 1 else tuple(sizes)) if sizes else None),
        items=tuple(AssetRow(item.id, item.prompt, item.caption, rounded(row), thumbnails.get(item.id))
                    for item, row in zip(items, per_item)),
        warnings=tuple(dict.fromkeys(warnings)), n_failed=n_failed,
        prompts_sha256=_digest(item.prompt for item in items),
        reference_sha256=_digest(f"{item.id}\t{item.prompt}" for item in ref_items) if ref_items is not None else None)


def _digest(lines: Iterable[str]) -> str:
    """sha256 of the sorted lines: which prompts (or reference items) an evaluation measured."""
    return hashlib.sha256("\n".join(sorted(lines)).encode("utf-8")).hexdigest()


def _sparse_cloud_warnings(sources: _Sources, options: EvalOptions) -> list[str]:
    """A warning when point clouds hold fewer points than ``n_points`` asked for: farthest point sampling
    keeps what the depth views see, so FD_points then compares smaller clouds than its protocol says."""
    warnings = []
    for label, files in (("generated", sources.points), ("reference", sources.reference_points)):
        counts = [ply_vertex_count(path) or 0 for path in files or ()]
        short = [c for c in counts if c < options.n_points]
        if short:
            warnings.append(f"{len(short)} of {len(counts)} {label} point clouds hold fewer than --points "
                            f"{options.n_points} (fewest {min(short)}): the depth views at --point-resolution "
                            f"{options.point_resolution} see fewer surface points; a higher one sees more")
    return warnings


def _view_sizes(sources: _Sources) -> list[int]:
    """The distinct sides (px) of the view images the image metrics read, sorted: the header of each
    group's first view (a group is one item's protocol folder, rendered in one call at one size; ≈ 0.1 ms
    a header); a non-square view counts by its width."""
    sizes = set()
    for groups in (sources.views, sources.reference_views, sources.clip_views):
        for paths in groups or ():
            if paths:
                with Image.open(paths[0]) as image:
                    sizes.add(int(image.size[0]))
    return sorted(sizes)


def _thumbnail_sources(items: list[EvalItem], sources: _Sources) -> dict[str, Path]:
    """The first view of each item that the evaluation read (FD views first, then CLIP views)."""
    found = {}
    for index, item in enumerate(items):
        for per_item in (sources.views, sources.clip_views):
            if per_item and per_item[index] and per_item[index][0].exists():
                found[item.id] = per_item[index][0]
                break
    return found
