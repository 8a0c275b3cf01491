"""The standard evaluation protocol of the seeds on run folders.

``evaluate_run(generated, out, reference, options)`` completes the inputs (renders missing
views, samples missing point clouds), extracts features through a cache, and computes:

* per image extractor, against the reference set: ``fd_<ext>`` and ``kd_<ext>`` (KD ×100, as
  the seeds print it; ``kd_std_<ext>`` its subset std ×100) over all ``canonical4`` views of all
  assets (seed 001 App. C: 4 views per asset);
* per point extractor: ``fd_points_<ext>`` on ``points.ply`` (depth20 → 4,000 points);
* ``fd_per_asset`` {mean, std, min, max}: for the first image extractor, the FD between each
  generated asset's views and the whole reference set (seed 000 Table I's FD statistics); see
  :func:`per_asset_fd` for exactly what is computed and why;
* with the first joint-space extractor (CLIP): ``clip_user`` / ``clip_aug`` = 100·cos between each
  ``clip8`` view and the item's prompt / caption, averaged over views then items, and
  ``clip_delta`` = mean over items with a caption of (aug − user) (seed 000); ``r_at_1/5/10``
  (%) = share of assets whose own prompt ranks in the top K among the run's distinct prompts,
  by the cosine of the asset's view-averaged (unit-normalized) image embedding (seed 002); with
  fewer than 2 distinct prompts R@K means nothing (every asset ranks first), so it is null and
  metrics.json gets a ``warnings`` entry, shown in the report;
* ``latency_s`` {stage: {mean, median, p95}} from meta.json ``timings_s`` (plus ``total``, the
  per-item sum of stages, unless a ``total`` stage is recorded).

Without a reference only the reference-free metrics are computed. With one, each run needs at
least 2 items (FD needs a covariance per set): a one-item run is refused before any work. Items are sorted by id, KD
subsets are seeded and floats are rounded, so equal inputs give a byte-identical metrics.json.
"""

from __future__ import annotations

import gc
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from text3d.encoders.base import FeatureExtractor, create_extractor, extractors
from text3d.errors import InputError
from text3d.eval import metrics as M
from text3d.eval.features import FeatureCache, default_cache_dir, image_group_features, point_cloud_features
from text3d.eval.features import text_features as cached_text_features
from text3d.eval.inputs import EvalItem, load_items, prepare_items, read_cloud, run_identity
from text3d.store.atomic import write_json

log = logging.getLogger(__name__)

DEFAULT_EXTRACTORS: tuple[str, ...] = ("embedded", "embedded-clip")
"""Extractors used when none are named: the shipped embedded encoders (ViT CLS + PointNet
features for FD/KD and FD_points; the CLIP-like joint space for CLIP scores and R@K)."""
DECIMALS = 6
RETRIEVAL_KS = (1, 5, 10)


@dataclass
class EvalOptions:
    """Settings of one evaluation (defaults: the seeds' protocol)."""

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


@dataclass
class EvalResult:
    """metrics.json's content, the per-item rows and the folder everything was written to."""

    metrics: dict[str, Any]
    items: list[dict[str, Any]]
    out_dir: Path
    thumbnails: dict[str, Path] = field(default_factory=dict)


def rounded(value: Any, decimals: int = DECIMALS) -> Any:
    """Floats rounded to ``decimals`` (NaN/inf → None), recursively through dicts and lists."""
    if isinstance(value, dict):
        return {str(k): rounded(v, decimals) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v, decimals) for v in value]
    if isinstance(value, (float, np.floating)):
        return round(float(value), decimals) + 0.0 if math.isfinite(value) else None  # + 0.0: no -0.0
    if isinstance(value, np.integer):
        return int(value)
    return value


def per_asset_fd(asset_features: list[np.ndarray], reference: np.ndarray) -> np.ndarray:
    """FD of each generated asset against the whole reference set (seed 000 Table I's per-asset
    FD statistics; the seed publishes no code).

    For asset a with view features Xₐ (V×D, the ``canonical4`` views) and the reference
    features R (all views of all reference assets): FDₐ = ‖μₐ−μ_R‖² + Tr Σₐ + Tr Σ_R −
    2·Tr (ΣₐΣ_R)^½, with Σₐ = cov(Xₐ) (N−1). Why this: reference items are not matched to
    generated ones (FD is a distribution distance), so the only per-asset reading of FD is
    "how far this asset's views sit from the reference distribution"; the set-level FD is
    the same formula with all assets pooled. Σₐ has rank ≤ V−1 = 3, so the trace of the root
    is computed exactly through the V×V matrix (:func:`metrics.frechet_distance_few_samples`)
    instead of a singular D×D ``sqrtm``. The values are dominated by ‖μₐ−μ_R‖² + Tr Σ_R and are
    therefore larger than the set-level FD, as in seed 000 (hundreds, min ≈ 40, max ≈ 1100).
    """
    mu_r, sigma_r = M.mean_and_covariance(reference)
    return np.array([M.frechet_distance_few_samples(f, mu_r, sigma_r) for f in asset_features])


@dataclass(frozen=True)
class ExtractorRole:
    """What one named extractor is used for, read from its registered class's attributes."""

    name: str
    image: bool
    points: bool
    joint: bool


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


def latency_summary(items: list[EvalItem]) -> dict[str, dict[str, float]]:
    """{stage: {mean, median, p95}} over the items that recorded the stage (seconds)."""
    stages: dict[str, list[float]] = {}
    for item in items:
        for stage, seconds in item.timings_s.items():
            stages.setdefault(stage, []).append(seconds)
        if item.timings_s and "total" not in item.timings_s:
            stages.setdefault("total", []).append(sum(item.timings_s.values()))
    return {stage: M.latency_statistics(np.array(values)) for stage, values in sorted(stages.items())}


def _clip_metrics(joint: FeatureExtractor, items: list[EvalItem], views: list[list[Path]], cache: FeatureCache,
                  options: EvalOptions, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """clip_user/clip_aug/clip_delta and R@K; R@K is null (with a warning in ``warnings``) when
    the run has fewer than 2 distinct prompts: with one candidate every asset ranks first."""
    view_features = image_group_features(joint, views, cache, description=f"{options.clip_views} views")
    prompts = [item.prompt for item in items]
    prompt_features = cached_text_features(joint, prompts, cache)
    captioned = [i for i, item in enumerate(items) if item.caption]
    caption_features = cached_text_features(joint, [items[i].caption for i in captioned], cache)
    caption_row = {i: k for k, i in enumerate(captioned)}
    user, aug = [], []
    for i, feats in enumerate(view_features):
        score_user = float(np.mean(M.clip_score(feats, np.repeat(prompt_features[i:i + 1], len(feats), 0))))
        rows[i]["clip_user"] = score_user
        user.append(score_user)
        if i in caption_row:
            k = caption_row[i]
            score_aug = float(np.mean(M.clip_score(feats, np.repeat(caption_features[k:k + 1], len(feats), 0))))
            rows[i]["clip_aug"], rows[i]["clip_delta"] = score_aug, score_aug - score_user
            aug.append(score_aug)
    result: dict[str, Any] = {"clip_user": float(np.mean(user))}
    if aug:
        result["clip_aug"] = float(np.mean(aug))
        result["clip_delta"] = float(np.mean([rows[i]["clip_delta"] for i in captioned]))
    distinct = list(dict.fromkeys(prompts))
    truth = np.array([distinct.index(p) for p in prompts])
    distinct_features = prompt_features[[prompts.index(p) for p in distinct]]
    image_embeddings = np.stack([(f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), M.COSINE_EPS)).mean(0)
                                 for f in view_features])
    if len(distinct) < 2:
        log.warning("R@K is undefined for a run with %d distinct prompt(s); reported as null", len(distinct))
        result.update({f"r_at_{k}": None for k in RETRIEVAL_KS})
        result["warnings"] = [f"R@K is null: the run has {len(distinct)} distinct prompt(s), so every asset "
                              "would trivially rank its own prompt first"]
        return result
    recall = M.r_precision(image_embeddings, distinct_features, truth, RETRIEVAL_KS)
    result.update({f"r_at_{k}": 100.0 * v for k, v in recall.items()})
    return result


def _image_metrics(ext: FeatureExtractor, views: tuple[list[list[Path]], list[list[Path]]], cache: FeatureCache,
                   options: EvalOptions, rows: list[dict[str, Any]] | None) -> dict[str, Any]:
    """fd_/kd_/kd_std_<ext> over all views; with ``rows``, also the per-asset FD statistics."""
    gen = image_group_features(ext, views[0], cache, description=f"generated {options.views}")
    ref = np.concatenate(image_group_features(ext, views[1], cache, description=f"reference {options.views}"))
    pooled = np.concatenate(gen)
    kd = M.kernel_distance(pooled, ref, options.kd_subsets, options.kd_subset_size, options.seed)
    result: dict[str, Any] = {f"fd_{ext.name}": M.frechet_distance(pooled, ref), f"kd_{ext.name}": 100.0 * kd.mean,
                              f"kd_std_{ext.name}": 100.0 * kd.std}
    if rows is not None:
        values = per_asset_fd(gen, ref)
        for row, value in zip(rows, values):
            row["fd_asset"] = float(value)
        result["fd_per_asset"] = M.summary_statistics(values)
    return result


def evaluate_run(generated: str | Path, out: str | Path, reference: str | Path | None = None,
                 options: EvalOptions | None = None) -> EvalResult:
    """Evaluate the run folder ``generated`` (against ``reference`` if given); write metrics.json,
    per_item.csv, report.md, report.html and plots into ``out``."""
    options = options or EvalOptions()
    out_dir = Path(out)
    items = load_items(generated, "generated")
    ref_items = load_items(reference, "reference") if reference is not None else None
    names = tuple(dict.fromkeys(options.extractors or DEFAULT_EXTRACTORS))
    roles = plan_extractors(names, options)
    primary = next((r.name for r in roles if r.image), None)
    joint = next((r.name for r in roles if r.joint), None)
    if ref_items is None and joint is None:
        raise InputError("without --reference only CLIP metrics exist; add a joint image-text extractor")
    cache = FeatureCache(options.cache_dir or default_cache_dir(out_dir))
    system, family = run_identity(generated)
    rows: list[dict[str, Any]] = [{"id": it.id, "prompt": it.prompt, "caption": it.caption} for it in items]
    metrics: dict[str, Any] = {"n_items": len(items), "system": options.system or system,
                               "family": options.family or family}
    protocol: dict[str, Any] = {"extractors": list(names), "views": options.views, "seed": options.seed}
    if ref_items is not None:
        for run_label, run_dir, count in (("generated", generated, len(items)), ("reference", reference,
                                                                                  len(ref_items))):
            if count < 2:
                raise InputError(f"{run_label} run {run_dir}: {count} finished item; FD and KD need at least 2 per "
                                 "set (a covariance), so evaluate at least 2 items or leave out --reference")
    fd_views = ref_items is not None and primary is not None
    want_points = ref_items is not None and any(r.points for r in roles)
    gen_protocols = tuple(dict.fromkeys(([options.views] if fd_views else [])
                                        + ([options.clip_views] if joint is not None else [])))
    point_plan = (options.n_points, options.point_resolution) if want_points else None
    gen_views, gen_points = prepare_items(items, gen_protocols, options.resolution, options.render_missing,
                                          point_plan, "generated")
    views = points = None
    if ref_items is not None:
        metrics["n_reference"] = len(ref_items)
        ref_views, ref_points = prepare_items(ref_items, (options.views,) if fd_views else (), options.resolution,
                                              options.render_missing, point_plan, "reference")
        if fd_views:
            views = (gen_views[options.views], ref_views[options.views])
            protocol.update(kd_subsets=options.kd_subsets, kd_subset_size=options.kd_subset_size,
                            fd_per_asset_extractor=primary)
        if want_points:
            points = (gen_points, ref_points)
    warnings: list[str] = []
    for role in roles:  # one model in memory at a time
        ext = create_extractor(role.name, weights=options.weights.get(role.name), device=options.device)
        if views is not None and role.image:
            metrics.update(_image_metrics(ext, views, cache, options, rows if role.name == primary else None))
        if points is not None and role.points:
            metrics[f"fd_points_{ext.name}"] = M.frechet_distance(
                point_cloud_features(ext, points[0], cache, read_cloud),
                point_cloud_features(ext, points[1], cache, read_cloud))
        if role.name == joint:
            clip = _clip_metrics(ext, items, gen_views[options.clip_views], cache, options, rows)
            warnings += clip.pop("warnings", [])
            metrics.update(clip)
            protocol.update(clip_extractor=joint, clip_views=options.clip_views)
        del ext
        gc.collect()
    if warnings:
        metrics["warnings"] = warnings
    latency = latency_summary(items)
    if latency:
        metrics["latency_s"] = latency
    metrics["protocol"] = protocol
    metrics = rounded(metrics)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "metrics.json", metrics)
    result = EvalResult(metrics, rounded(rows), out_dir, _thumbnail_sources(items, options))
    from text3d.eval.report import write_run_report

    write_run_report(result)
    return result


def _thumbnail_sources(items: list[EvalItem], options: EvalOptions) -> dict[str, Path]:
    sources = {}
    for item in items:
        for protocol in (options.views, options.clip_views):
            paths = item.folder.view_paths(protocol)
            if paths and paths[0].exists():
                sources[item.id] = paths[0]
                break
    return sources
