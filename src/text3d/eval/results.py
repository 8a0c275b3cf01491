"""What an evaluation returns: typed, immutable results that the caller writes.

:func:`text3d.eval.protocol.evaluate_run` builds an :class:`EvaluationResult`;
:mod:`text3d.eval.report` writes it (``metrics.json`` through :meth:`EvaluationResult.to_json`,
report.md, report.html, per_item.csv, plots). Values are rounded when the result is built, so
the object and its ``metrics.json`` hold the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from text3d.store.atomic import dumps_json, write_text

DECIMALS = 6
"""Decimal places of every float in metrics.json."""

MetricValue = float | None | Mapping[str, Any]
"""A metric's value in metrics.json: a number, null (undefined for this run), or a mapping of
statistics (e.g. ``fd_per_asset``: {mean, std, min, max}; ``latency_s``: {stage: {mean, …}})."""


def rounded(value: Any, decimals: int = DECIMALS) -> Any:
    """Floats rounded to ``decimals`` (NaN/inf → None), recursively through dicts and lists."""
    if isinstance(value, Mapping):
        return {str(k): rounded(v, decimals) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v, decimals) for v in value]
    if isinstance(value, (float, np.floating)):
        return round(float(value), decimals) + 0.0 if math.isfinite(value) else None  # + 0.0: no -0.0
    if isinstance(value, np.integer):
        return int(value)
    return value


@dataclass(frozen=True)
class EvaluationProtocol:
    """The settings an evaluation ran with, as recorded in metrics.json's ``protocol``.

    Optional fields are recorded only when a computed metric used them (the KD subsets with
    KD, the CLIP views and extractor with the CLIP scores, the per-asset FD's extractor, the
    point clouds' size and depth resolution with FD_points, the side in pixels of the views any
    image metric read: an int when all have one size, else the sorted sizes).
    """

    extractors: tuple[str, ...]
    views: str
    seed: int
    kd_subsets: int | None = None
    kd_subset_size: int | None = None
    fd_per_asset_extractor: str | None = None
    clip_extractor: str | None = None
    clip_views: str | None = None
    n_points: int | None = None
    point_resolution: int | None = None
    view_resolution: int | tuple[int, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """metrics.json's ``protocol`` object (unset fields left out)."""
        document: dict[str, Any] = {"extractors": list(self.extractors), "views": self.views, "seed": self.seed}
        for name in ("kd_subsets", "kd_subset_size", "fd_per_asset_extractor", "clip_extractor", "clip_views",
                     "n_points", "point_resolution", "view_resolution"):
            value = getattr(self, name)
            if value is not None:
                document[name] = list(value) if isinstance(value, tuple) else value
        return document


@dataclass(frozen=True)
class AssetRow:
    """One evaluated asset: its prompt and caption, its per-asset values (registry item columns,
    e.g. ``clip_user``, ``fd_asset``) and the view image that stands for it in report.html."""

    id: str
    prompt: str
    caption: str | None
    values: Mapping[str, float | None] = field(default_factory=dict)
    thumbnail: Path | None = None

    def get(self, column: str) -> float | None:
        """The asset's value in ``column``, or None."""
        return self.values.get(column)


@dataclass(frozen=True)
class EvaluationResult:
    """Everything one evaluation measured.

    ``values`` maps metrics.json keys (``fd_<extractor>``, ``clip_user``, ``latency_s``, …) to
    their rounded values; ``items`` holds one row per asset, sorted by id.
    """

    system: str
    family: str
    n_items: int
    n_reference: int | None
    values: Mapping[str, MetricValue]
    protocol: EvaluationProtocol
    items: tuple[AssetRow, ...] = ()
    warnings: tuple[str, ...] = ()
    n_failed: int = 0  # items of the run that failed or never finished: not evaluated
    prompts_sha256: str | None = None  # of the evaluated prompts: comparisons need the same set
    reference_sha256: str | None = None  # of the reference items (id, prompt) measured against

    @property
    def latency(self) -> Mapping[str, Mapping[str, float]]:
        """{stage: {mean, median, p95}} in seconds; empty when no item recorded timings."""
        latency = self.values.get("latency_s")
        return latency if isinstance(latency, Mapping) else {}

    @property
    def metrics(self) -> dict[str, Any]:
        """metrics.json's content."""
        document: dict[str, Any] = {"n_items": self.n_items, "system": self.system, "family": self.family}
        if self.n_reference is not None:
            document["n_reference"] = self.n_reference
        if self.n_failed:
            document["n_failed"] = self.n_failed
        if self.prompts_sha256:
            document["prompts_sha256"] = self.prompts_sha256
        if self.reference_sha256:
            document["reference_sha256"] = self.reference_sha256
        document.update(self.values)
        if self.warnings:
            document["warnings"] = list(self.warnings)
        document["protocol"] = self.protocol.to_dict()
        return rounded(document)

    def to_json(self) -> str:
        """metrics.json's text: sorted keys, 2-space indent, a final newline (byte-identical for
        equal results)."""
        return dumps_json(self.metrics) + "\n"

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_json` to ``path`` atomically."""
        return write_text(path, self.to_json())
