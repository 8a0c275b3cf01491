"""Evaluation plots as PNG files (matplotlib, Agg canvas; no pyplot global state)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from text3d.store.atomic import write_bytes

DPI = 110
_PNG_METADATA = {"Software": None}


def _save(figure: Figure, path: Path) -> Path:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata=_PNG_METADATA, bbox_inches="tight")
    return write_bytes(path, buffer.getvalue())


def fd_histogram(values: Sequence[float], extractor: str, path: Path) -> Path:
    """Histogram of per-asset FD values with the mean marked."""
    figure = Figure(figsize=(5.5, 3.5))
    axes = figure.add_subplot()
    data = np.asarray(values, float)
    axes.hist(data, bins=min(30, max(5, len(data) // 3)), color="#4c72b0", edgecolor="white")
    axes.axvline(float(data.mean()), color="#c44e52", linestyle="--", label=f"mean {data.mean():.2f}")
    axes.set_xlabel(f"per-asset FD ({extractor})")
    axes.set_ylabel("assets")
    axes.legend(frameon=False)
    return _save(figure, path)


def clip_per_item(user: Sequence[float], aug: Sequence[float], path: Path) -> Path:
    """Per-item CLIP_aug against CLIP_user, with the diagonal (above it: augmentation helped)."""
    figure = Figure(figsize=(4.5, 4.5))
    axes = figure.add_subplot()
    u, a = np.asarray(user, float), np.asarray(aug, float)
    axes.scatter(u, a, s=14, color="#55a868", alpha=0.8)
    low, high = float(min(u.min(), a.min())), float(max(u.max(), a.max()))
    pad = 0.05 * (high - low or 1.0)
    axes.plot([low - pad, high + pad], [low - pad, high + pad], color="grey", linewidth=0.8)
    axes.set_xlabel("CLIP_user (prompt)")
    axes.set_ylabel("CLIP_aug (caption)")
    return _save(figure, path)


def latency_bars(latency: dict[str, dict[str, float]], path: Path) -> Path:
    """Mean, median and p95 seconds per stage."""
    figure = Figure(figsize=(max(4.0, 1.2 * len(latency) + 2), 3.5))
    axes = figure.add_subplot()
    stages = list(latency)
    x = np.arange(len(stages))
    for offset, (stat, colour) in zip((-0.25, 0.0, 0.25), (("mean", "#4c72b0"), ("median", "#55a868"),
                                                          ("p95", "#c44e52"))):
        axes.bar(x + offset, [latency[s][stat] for s in stages], width=0.25, label=stat, color=colour)
    axes.set_xticks(x, stages, rotation=20)
    axes.set_ylabel("seconds")
    axes.legend(frameon=False)
    return _save(figure, path)


def clip_aug_vs_fd(systems: Sequence[str], clip_aug: Sequence[float], fd: Sequence[float],
                   families: Sequence[str], fd_label: str, path: Path) -> Path:
    """CLIP_aug against FD, one point per system, coloured by family (Fig. 2 of the
    LLM-augmentation study for TRELLIS pipelines)."""
    figure = Figure(figsize=(6.0, 4.2))
    axes = figure.add_subplot()
    palette = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c"]
    for k, family in enumerate(dict.fromkeys(families)):
        idx = [i for i, f in enumerate(families) if f == family]
        axes.scatter([clip_aug[i] for i in idx], [fd[i] for i in idx], s=40, label=family,
                     color=palette[k % len(palette)])
        for i in idx:
            axes.annotate(systems[i], (clip_aug[i], fd[i]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    axes.set_xlabel("CLIP_aug")
    axes.set_ylabel(fd_label)
    axes.legend(frameon=False, fontsize=8)
    return _save(figure, path)


def clip_delta_bars(systems: Sequence[str], delta: Sequence[float], families: Sequence[str], path: Path) -> Path:
    """CLIP delta (aug − user) per system (Fig. 3 of the LLM-augmentation study)."""
    figure = Figure(figsize=(max(4.5, 0.55 * len(systems) + 2), 3.8))
    axes = figure.add_subplot()
    palette = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c"]
    colour_of = {f: palette[k % len(palette)] for k, f in enumerate(dict.fromkeys(families))}
    axes.bar(range(len(systems)), delta, color=[colour_of[f] for f in families])
    axes.axhline(0.0, color="black", linewidth=0.8)
    axes.set_xticks(range(len(systems)), systems, rotation=45, ha="right", fontsize=8)
    axes.set_ylabel("CLIP delta (aug − user)")
    return _save(figure, path)
