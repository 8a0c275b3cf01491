"""The metric registry: one declared entry per metric.

An entry (:class:`Metric`) states the metric's metrics.json key, the inputs it reads
(:class:`~text3d.eval.metric_inputs.Input`), its compute function, its direction (lower or
higher is better) and its table columns (header, number format).
:func:`text3d.eval.protocol.evaluate_run` extracts the features the registered metrics need
and calls each compute function; the reports and the comparison read the columns from here.
Adding a metric is adding one entry::

    METRICS.add(Metric("mean_norm_{extractor}", frozenset({Input.VIEWS}), compute, "higher",
                       (Column("‖f‖ ({extractor})"),)))

A key holding ``{extractor}`` is computed with every extractor that gives the inputs;
otherwise with the first one (the protocol records which, under ``recorded_as``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from text3d.eval import metrics as M
from text3d.eval.metric_inputs import RETRIEVAL_KS, Input, MetricInputs
from text3d.eval.results import MetricValue
from text3d.registry import DuplicateNameError

Direction = Literal["lower", "higher"]


@dataclass(frozen=True)
class Column:
    """A table column of a metric: the header ("{extractor}" is filled in), the number format,
    the path of the number inside a mapping-valued metric (() for a number), and the column's
    name in compare.json (default: the metric's key)."""

    header: str
    fmt: str = ".2f"
    path: tuple[str, ...] = ()
    name: str | None = None


@dataclass(frozen=True)
class Measurement:
    """What a compute function returns: the metric's value, per-asset values (aligned with the
    items; None where an asset has none) and warnings for the report."""

    value: MetricValue
    per_item: tuple[float | None, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Metric:
    """One metric: its metrics.json key, inputs, compute function, direction and table columns.

    ``item_column`` (named; not for per-extractor metrics) holds its per-asset values
    (per_item.csv, report.html); ``recorded_as`` is
    the protocol key naming the extractor of a metric computed with the first capable one;
    ``settings`` are the ``EvalOptions`` fields its value depends on, recorded in the protocol.
    """

    key: str
    inputs: frozenset[Input]
    compute: Callable[[MetricInputs], Measurement | None]
    direction: Direction
    columns: tuple[Column, ...] = ()
    item_column: Column | None = None
    recorded_as: str | None = None
    settings: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        if self.per_extractor and not self.capabilities:
            raise ValueError(f"metric {self.key!r}: '{{extractor}}' in the key but no input needs an extractor")
        if self.item_column is not None and (self.per_extractor or not self.item_column.name):
            raise ValueError(f"metric {self.key!r}: a per-asset column needs a name and one extractor")

    @property
    def per_extractor(self) -> bool:
        """True when every capable extractor computes it (the key holds ``{extractor}``)."""
        return "{extractor}" in self.key

    @property
    def capabilities(self) -> frozenset[str]:
        """What the extractor computing it must offer (empty: no extractor)."""
        return frozenset(c for c in (i.capability for i in self.inputs) if c is not None)

    @property
    def needs_reference(self) -> bool:
        return any(i.reference for i in self.inputs)

    def key_for(self, extractor: str | None) -> str:
        """The metrics.json key when computed with ``extractor``."""
        return self.key.replace("{extractor}", str(extractor)) if self.per_extractor else self.key


class MetricRegistry:
    """The registered metrics in declaration order (the order of columns and computation)."""

    def __init__(self) -> None:
        self._metrics: dict[str, Metric] = {}

    def add(self, metric: Metric) -> Metric:
        """Register ``metric``; a key registered twice is an error."""
        if metric.key in self._metrics:
            raise DuplicateNameError(f"metric {metric.key!r} is registered twice")
        self._metrics[metric.key] = metric
        return metric

    def remove(self, key: str) -> None:
        """Unregister the metric ``key`` (tests register temporary metrics)."""
        del self._metrics[key]

    def __iter__(self) -> Iterator[Metric]:
        return iter(list(self._metrics.values()))

    def __contains__(self, key: object) -> bool:
        return key in self._metrics


METRICS = MetricRegistry()
"""Every metric an evaluation computes."""


def item_columns(registry: MetricRegistry = METRICS) -> list[Column]:
    """The per-asset columns of the registered metrics, in registry order (each has a name)."""
    return [m.item_column for m in registry if m.item_column is not None]


def _fd(x: MetricInputs) -> Measurement:
    return Measurement(M.frechet_distance(x.pooled_views, x.reference_views))


def _kd(x: MetricInputs) -> Measurement:
    return Measurement(100.0 * x.kernel_distance.mean)


def _kd_std(x: MetricInputs) -> Measurement:
    return Measurement(100.0 * x.kernel_distance.std)


def _fd_points(x: MetricInputs) -> Measurement:
    return Measurement(M.frechet_distance(x.points, x.reference_points))


def _fd_per_asset(x: MetricInputs) -> Measurement:
    values = x.per_asset_fd
    return Measurement(M.summary_statistics(values), tuple(float(v) for v in values))


def _clip_user(x: MetricInputs) -> Measurement:
    return Measurement(float(np.mean(x.clip_user)), x.clip_user)


def _clip_aug(x: MetricInputs) -> Measurement | None:
    if not x.clip_aug:
        return None
    return Measurement(float(np.mean(list(x.clip_aug.values()))),
                       tuple(x.clip_aug.get(i) for i in range(len(x.clip_user))))


def _clip_delta(x: MetricInputs) -> Measurement | None:
    delta = {i: aug - x.clip_user[i] for i, aug in x.clip_aug.items()}
    if not delta:
        return None
    return Measurement(float(np.mean(list(delta.values()))), tuple(delta.get(i) for i in range(len(x.clip_user))))


def _r_at(k: int) -> Callable[[MetricInputs], Measurement]:
    def compute(x: MetricInputs) -> Measurement:
        if x.recall is None:
            distinct = len(set(x.prompt_texts))
            return Measurement(None, warnings=(f"R@K is null: the run has {distinct} distinct prompt(s), so every "
                                               "asset would trivially rank its own prompt first",))
        distinct = len(set(x.prompt_texts))
        if k >= distinct:
            return Measurement(None, warnings=(f"R@{k} is null: among the run's {distinct} distinct prompts every "
                                               f"asset's own prompt is in the top {k}, so it cannot fail",))
        return Measurement(100.0 * x.recall[k])

    return compute


def _latency(x: MetricInputs) -> Measurement | None:
    summary = M.latency_summary(x.timings)
    return Measurement(summary) if summary else None


_JOINT = frozenset({Input.CLIP_VIEWS, Input.PROMPTS})
_IMAGES = frozenset({Input.VIEWS, Input.REFERENCE_VIEWS})
_CLIP_VIEWS = ("clip_views",)
_KD = ("kd_subsets", "kd_subset_size")

METRICS.add(Metric("clip_user", _JOINT, _clip_user, "higher", (Column("CLIP_user"),),
                   Column("CLIP_user", name="clip_user"), recorded_as="clip_extractor", settings=_CLIP_VIEWS,
                   description="100·cos between each CLIP view and the item's prompt, averaged over views, then "
                               "assets."))
METRICS.add(Metric("clip_aug", _JOINT | {Input.CAPTIONS}, _clip_aug, "higher", (Column("CLIP_aug"),),
                   Column("CLIP_aug", name="clip_aug"), recorded_as="clip_extractor", settings=_CLIP_VIEWS,
                   description="the same against the item's caption, over the captioned assets."))
METRICS.add(Metric("clip_delta", _JOINT | {Input.CAPTIONS}, _clip_delta, "higher", (Column("CLIP delta"),),
                   Column("CLIP delta", name="clip_delta"), recorded_as="clip_extractor", settings=_CLIP_VIEWS,
                   description="mean over captioned assets of CLIP_aug − CLIP_user."))
for _k in RETRIEVAL_KS:
    METRICS.add(Metric(f"r_at_{_k}", _JOINT, _r_at(_k), "higher", (Column(f"R@{_k}"),),
                       recorded_as="clip_extractor", settings=_CLIP_VIEWS,
                       description=f"share (%) of assets whose own prompt ranks in the top {_k} of the run's "
                                   "distinct prompts by cosine to its view-averaged image embedding."))
METRICS.add(Metric("fd_{extractor}", _IMAGES, _fd, "lower", (Column("FD ({extractor})"),),
                   description="Fréchet distance between Gaussians fitted to all views of all assets of each "
                               "set."))
METRICS.add(Metric("kd_{extractor}", _IMAGES, _kd, "lower", (Column("KD ({extractor}) ×100"),), settings=_KD,
                   description="kernel distance: the unbiased MMD² with the kernel (x·y/d + 1)³ on the same "
                               "views, averaged over seeded subsets, ×100."))
METRICS.add(Metric("kd_std_{extractor}", _IMAGES, _kd_std, "lower", settings=_KD,
                   description="standard deviation of KD over the subsets, ×100."))
METRICS.add(Metric("fd_points_{extractor}", frozenset({Input.POINTS, Input.REFERENCE_POINTS}), _fd_points, "lower",
                   (Column("FD_points ({extractor})"),), settings=("n_points", "point_resolution"),
                   description="FD between the point-cloud features of the two sets."))
METRICS.add(Metric("fd_per_asset", _IMAGES, _fd_per_asset, "lower",
                   tuple(Column(f"{label} FD_{{extractor}}{suffix}", path=(stat,), name=f"fd_per_asset_{stat}")
                         for label, suffix, stat in (("Mean", " (asset)", "mean"), ("Std", "", "std"),
                                                     ("Min", "", "min"), ("Max", "", "max"))),
                   Column("FD (asset)", name="fd_asset"), recorded_as="fd_per_asset_extractor",
                   description="each generated asset's views against the whole reference set (no pairing of "
                               "items); mean, std, min and max over assets."))
METRICS.add(Metric("latency_s", frozenset({Input.TIMINGS}), _latency, "lower",
                   (Column("Latency (s)", path=("total", "mean"), name="latency_total_mean"),),
                   description="seconds per stage (mean, median, p95); the column is the mean total per asset."))
