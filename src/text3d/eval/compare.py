"""Comparing systems: one table across evaluations, metric correlations, and the figures of
the LLM-augmentation study for TRELLIS pipelines.

``compare_evaluations(dirs, out)`` reads each ``metrics.json`` (an evaluation --out folder or
the file itself) and writes ``compare.json`` (rows and correlations), ``compare.md``,
``compare.html``, ``clip_aug_vs_fd.png`` (the study's Fig. 2) and ``clip_delta.png`` (Fig. 3).
The columns are the metric registry's (:func:`text3d.eval.tables.column_values`).
Correlations (the study's §IV-C) are Pearson and Spearman between every pair of metric
columns that at least 3 systems report.
"""

from __future__ import annotations

import itertools
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from text3d.errors import InputError
from text3d.eval import metrics as M
from text3d.eval import plots
from text3d.eval.report import html_page, plots_html
from text3d.eval.results import rounded
from text3d.eval.tables import Table, column_values, fmt, metric_tables
from text3d.store.atomic import write_json, write_text

log = logging.getLogger(__name__)

MIN_SYSTEMS_FOR_CORRELATION = 3


def load_metrics(path: str | Path) -> dict[str, Any]:
    """metrics.json of an evaluation folder (or the file itself)."""
    file = Path(path)
    file = file / "metrics.json" if file.is_dir() else file
    if not file.is_file():
        raise InputError(f"{path}: no metrics.json (run `text3d eval` first)")
    try:
        metrics = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        if file.name != "metrics.json":  # some other file named in place of an evaluation folder
            raise InputError(f"{path}: not an evaluation (give a folder written by `text3d eval`, or its "
                             "metrics.json)") from None
        raise InputError(f"{file}: not valid JSON ({exc.msg})") from None
    except UnicodeDecodeError:
        raise InputError(f"{file}: not a text file (not UTF-8); give an evaluation's metrics.json") from None
    if not isinstance(metrics, dict):
        raise InputError(f"{file}: holds a JSON {type(metrics).__name__}, not an evaluation's metrics object")
    if not isinstance(metrics.get("protocol", {}), dict):
        raise InputError(f"{file}: its 'protocol' is a JSON {type(metrics['protocol']).__name__}, not an object "
                         "(give metrics.json as `text3d eval` wrote it)")
    return metrics


def metric_columns(metrics: dict[str, Any]) -> dict[str, float]:
    """The numeric registry columns of one evaluation (FD statistics and total latency included)."""
    return column_values(metrics)


def _unique_names(systems: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for name in systems:
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return names


def correlation_table(columns: list[dict[str, float]]) -> list[dict[str, Any]]:
    """Pearson/Spearman for each pair of non-constant columns present in ≥ 3 systems."""
    keys = sorted({k for c in columns for k in c})
    results = []
    for a, b in itertools.combinations(keys, 2):
        pairs = [(c[a], c[b]) for c in columns if a in c and b in c]
        if len(pairs) < MIN_SYSTEMS_FOR_CORRELATION:
            continue
        x, y = np.array(pairs).T
        if np.ptp(x) == 0 or np.ptp(y) == 0:  # a constant column has no correlation
            continue
        stats = M.correlations(x, y)
        results.append({"x": a, "y": b, **stats})
    return results


def _primary_fd(metrics: dict[str, Any]) -> tuple[str | None, float | None]:
    """(extractor, set FD) of the extractor whose per-asset FD statistics were computed."""
    name = (metrics.get("protocol") or {}).get("fd_per_asset_extractor")
    return (name, metrics.get(f"fd_{name}")) if name else (None, None)


def mismatch_warnings(names: list[str], loaded: list[dict[str, Any]]) -> list[str]:
    """A warning per thing the evaluations should share and do not: the prompts they generated
    (CLIP, R@K and FD compare systems only on one prompt set), the reference set FD measured
    against, and the protocol's settings (points, KD subsets, seeds, views). Evaluations written
    before the digests were recorded are judged on their settings only."""
    warnings = []
    for key, what in (("prompts_sha256", "prompt sets"), ("reference_sha256", "reference sets")):
        groups: dict[str, list[str]] = {}
        for name, metrics in zip(names, loaded):
            if metrics.get(key):
                groups.setdefault(str(metrics[key]), []).append(name)
        if len(groups) > 1:
            shown = "; ".join(", ".join(members) for members in groups.values())
            warnings.append(f"the evaluations have {len(groups)} different {what} ({shown}): their figures are "
                            "not comparable")
    protocols = [m.get("protocol") if isinstance(m.get("protocol"), dict) else {} for m in loaded]
    keys = sorted({k for p in protocols for k in p if k not in ("extractors",)})
    differ = [k for k in keys if len({json.dumps(p.get(k), sort_keys=True) for p in protocols}) > 1]
    if differ:  # FD_points of 100 and of 5,000 points, KD of other subsets: not one scale
        warnings.append(f"the evaluations were made with other settings ({', '.join(differ)} differ): a column "
                        "compares figures measured differently")
    return warnings


def compare_evaluations(dirs: list[str | Path], out: str | Path) -> dict[str, Any]:
    """Write the comparison of the evaluations in ``dirs`` to ``out``; returns compare.json's content."""
    if len(dirs) < 2:
        raise InputError("compare needs at least two evaluation folders")
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    loaded = [load_metrics(d) for d in dirs]
    names = _unique_names([str(m.get("system") or Path(d).name) for m, d in zip(loaded, dirs)])
    families = [str(m.get("family") or n.split(":")[0]) for m, n in zip(loaded, names)]
    columns = [metric_columns(m) for m in loaded]
    correlations = correlation_table(columns)
    warnings = mismatch_warnings(names, loaded)
    for warning in warnings:
        log.warning("%s", warning)
    document = rounded({"systems": [{"system": n, "family": f, "metrics": c} for n, f, c in
                                    zip(names, families, columns)],
                        "correlations": correlations, **({"warnings": warnings} if warnings else {})})
    write_json(out_dir / "compare.json", document)

    systems = list(zip(names, loaded))
    tables = metric_tables(systems)
    corr_rows = [[c["x"], c["y"], str(c["n"]), fmt(c["pearson_r"], ".3f"), fmt(c["pearson_p"], ".3f"),
                  fmt(c["spearman_r"], ".3f"), fmt(c["spearman_p"], ".3f")] for c in document["correlations"]]
    tables.append(Table("Correlations between metrics across systems (the LLM-augmentation study's §IV-C)",
                        ["x", "y", "n", "Pearson r", "p", "Spearman ρ", "p"], corr_rows))
    plot_paths = []
    fd_name = next((_primary_fd(m)[0] for m in loaded if _primary_fd(m)[0]), None)
    scatter = [(n, m.get("clip_aug"), _primary_fd(m)[1], f) for n, m, f in zip(names, loaded, families)]
    scatter = [s for s in scatter if s[1] is not None and s[2] is not None]
    if scatter:
        plot_paths.append(plots.clip_aug_vs_fd([s[0] for s in scatter], [s[1] for s in scatter],
                                               [s[2] for s in scatter], [s[3] for s in scatter],
                                               f"FD_{fd_name}", out_dir / "clip_aug_vs_fd.png"))
    deltas = [(n, m.get("clip_delta"), f) for n, m, f in zip(names, loaded, families)
              if m.get("clip_delta") is not None]
    if deltas:
        plot_paths.append(plots.clip_delta_bars([d[0] for d in deltas], [d[1] for d in deltas],
                                                [d[2] for d in deltas], out_dir / "clip_delta.png"))
    markdown = ["# Comparison of systems", "", f"Systems: {', '.join(names)}.", ""]
    markdown += [f"> Warning: {w}" for w in warnings] + ([""] if warnings else [])
    markdown += [t.markdown() for t in tables]
    if plot_paths:
        markdown += ["## Plots", ""] + [f"![{p.stem}]({p.name})" for p in plot_paths] + [""]
    write_text(out_dir / "compare.md", "\n".join(markdown))
    write_text(out_dir / "compare.html", html_page("Comparison of systems",
                                                   [t.html() for t in tables] + [plots_html(plot_paths)]))
    return document
