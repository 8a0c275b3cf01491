"""Writing an evaluation: metrics.json, per_item.csv, PNG plots, report.md and report.html.

:func:`write_reports` takes the :class:`~text3d.eval.results.EvaluationResult` that
:func:`text3d.eval.protocol.evaluate_run` returned. The tables (the papers' tables and "Other
metrics") come from :mod:`text3d.eval.tables`, the definitions and per-asset columns from the
metric registry; report.html embeds the plots and a thumbnail per asset, so it is one file.
"""

from __future__ import annotations

import base64
import csv
import html
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PIL import Image

from text3d.eval import plots
from text3d.eval.registry import METRICS, MetricRegistry, item_columns
from text3d.eval.results import EvaluationProtocol, EvaluationResult
from text3d.eval.tables import Table, fmt, metric_tables
from text3d.store.atomic import write_text

THUMBNAIL_SIZE = 128
HTML_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}.items{display:flex;flex-wrap:wrap;gap:10px}
.item{width:200px;font-size:12px;border:1px solid #ddd;padding:6px}.item img{width:128px;height:128px}
img.plot{max-width:640px;margin:6px}"""


def latency_table(latency: Mapping[str, Mapping[str, float]]) -> Table:
    """Mean, median and p95 seconds per stage."""
    rows = [[stage, fmt(s["mean"], ".3f"), fmt(s["median"], ".3f"), fmt(s["p95"], ".3f")]
            for stage, s in latency.items()]
    return Table("Latency per stage (seconds)", ["Stage", "Mean", "Median", "p95"], rows)


def definitions(metrics: Mapping[str, Any], registry: MetricRegistry = METRICS) -> list[str]:
    """One markdown line per registered metric that ``metrics`` holds: its key and definition."""
    extractors = (metrics.get("protocol") or {}).get("extractors", [])
    lines = []
    for metric in registry:
        keys = [metric.key_for(n) for n in extractors] if metric.per_extractor else [metric.key]
        if metric.description and any(k in metrics for k in keys):
            lines.append(f"- `{metric.key}`: {metric.description}")
    return lines


def png_data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def thumbnail_uri(path: Path, size: int = THUMBNAIL_SIZE) -> str:
    """A PNG data URI of the image at ``path``, shrunk to fit ``size``²."""
    with Image.open(path) as image:
        thumb = image.convert("RGB")
        thumb.thumbnail((size, size))
        buffer = io.BytesIO()
        thumb.save(buffer, format="PNG", optimize=False)
    return png_data_uri(buffer.getvalue())


def html_page(title: str, sections: list[str]) -> str:
    """A self-contained HTML page of ``sections``."""
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{HTML_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{''.join(sections)}</body></html>\n")


def plots_html(paths: list[Path]) -> str:
    """The PNG files at ``paths`` embedded as data URIs, under a "Plots" heading."""
    images = "".join(f"<img class='plot' alt='{html.escape(p.name)}' src='{png_data_uri(p.read_bytes())}'>"
                     for p in paths)
    return f"<h2>Plots</h2>{images}" if paths else ""


def _item_cards(result: EvaluationResult, registry: MetricRegistry) -> str:
    cards = []
    for row in result.items:
        image = f"<img alt='{html.escape(row.id)}' src='{thumbnail_uri(row.thumbnail)}'>" if row.thumbnail else ""
        lines = [f"<b>{html.escape(row.id)}</b>", html.escape(row.prompt)]
        if row.caption:
            lines.append(f"<i>{html.escape(row.caption)}</i>")
        lines.append(" · ".join(f"{html.escape(c.header)} {fmt(row.get(c.name), c.fmt)}"
                                for c in item_columns(registry) if c.name and row.get(c.name) is not None))
        cards.append(f"<div class='item'>{image}<br>{'<br>'.join(lines)}</div>")
    return f"<h2>Items</h2><div class='items'>{''.join(cards)}</div>"


def write_per_item_csv(result: EvaluationResult, out_dir: Path, registry: MetricRegistry = METRICS) -> Path:
    """per_item.csv: id, prompt, caption and the registry's per-asset columns, one row per asset."""
    columns = [c.name for c in item_columns(registry) if c.name]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "prompt", "caption", *columns])
    for row in result.items:
        cells = [row.id, row.prompt, row.caption] + [row.get(c) for c in columns]
        writer.writerow(["" if cell is None else cell for cell in cells])
    return write_text(out_dir / "per_item.csv", buffer.getvalue())


def _run_plots(result: EvaluationResult, out: Path) -> list[Path]:
    written = []
    fd_values = [r.get("fd_asset") for r in result.items if r.get("fd_asset") is not None]
    if fd_values:
        written.append(plots.fd_histogram(fd_values, result.protocol.fd_per_asset_extractor or "",
                                          out / "fd_per_asset.png"))
    pairs = [(r.get("clip_user"), r.get("clip_aug")) for r in result.items if r.get("clip_aug") is not None]
    if pairs:
        written.append(plots.clip_per_item([p[0] for p in pairs], [p[1] for p in pairs], out / "clip_per_item.png"))
    if result.latency:
        written.append(plots.latency_bars(result.latency, out / "latency.png"))
    return written


def _sides(protocol: EvaluationProtocol) -> str:
    """" at 128²" (or " at 128², 512²") for the summary line; "" when no view was read."""
    sides = protocol.view_resolution
    if sides is None:
        return ""
    return " at " + ", ".join(f"{s}²" for s in ((sides,) if isinstance(sides, int) else sides))


def write_reports(result: EvaluationResult, out: str | Path, registry: MetricRegistry = METRICS) -> Path:
    """Write metrics.json, per_item.csv, the PNG plots, report.md and report.html of one
    evaluation into ``out``; returns ``out``. metrics.json is written first."""
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    result.save(out_dir / "metrics.json")
    write_per_item_csv(result, out_dir, registry)
    plot_paths = _run_plots(result, out_dir)
    m = result.metrics
    tables = metric_tables([(result.system, m)], registry)
    if result.latency:
        tables.append(latency_table(result.latency))
    protocol = result.protocol
    failed = f" (and {result.n_failed} failed or unfinished, not evaluated)" if result.n_failed else ""
    summary = (f"Generated items: {result.n_items}{failed}; reference items: {fmt(result.n_reference, 'd')}; "
               f"extractors: {', '.join(protocol.extractors)}; views: {protocol.views}{_sides(protocol)}; "
               f"CLIP extractor: {protocol.clip_extractor or '–'}; KD seed: {protocol.seed}.")
    markdown = [f"# Evaluation: {result.system}", "", summary, ""]
    markdown += [f"> Warning: {w}" for w in result.warnings] + ([""] if result.warnings else [])
    markdown += [t.markdown() for t in tables]
    markdown += ["## Definitions", "", *definitions(m, registry), ""]
    if plot_paths:
        markdown += ["## Plots", ""] + [f"![{p.stem}]({p.name})" for p in plot_paths] + [""]
    write_text(out_dir / "report.md", "\n".join(markdown))
    sections = [f"<p>{html.escape(summary)}</p>"] + [f"<p><strong>Warning:</strong> {html.escape(w)}</p>"
                                                     for w in result.warnings] + [t.html() for t in tables]
    sections += [plots_html(plot_paths), _item_cards(result, registry)]
    write_text(out_dir / "report.html", html_page(f"Evaluation: {result.system}", sections))
    return out_dir
