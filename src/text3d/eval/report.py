"""report.md and report.html: the seeds' tables from metrics.json, plots, per-item thumbnails.

Tables (a row per system):

* "Table I" (seed 000): CLIP_user, CLIP_aug, CLIP delta, the set FD of the first image
  extractor, and the per-asset FD mean, std, min and max;
* "Table 3" (seed 001): FD and KD (×100) per image extractor, FD per point extractor, CLIP
  against the generator's input text (the caption when there is one, else the prompt);
* "Table 1" (seed 002): CLIP score, R@1/5/10 (%) and the mean total latency per asset (s).
"""

from __future__ import annotations

import base64
import csv
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from text3d.store.atomic import write_text

if TYPE_CHECKING:
    from text3d.eval.protocol import EvalResult

THUMBNAIL_SIZE = 128


@dataclass
class Table:
    """A titled table of preformatted cells."""

    title: str
    headers: list[str]
    rows: list[list[str]]

    def markdown(self) -> str:
        lines = [f"### {self.title}", "", "| " + " | ".join(self.headers) + " |",
                 "|" + "|".join("---" for _ in self.headers) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines) + "\n"

    def html(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.headers)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in self.rows)
        return f"<h3>{html.escape(self.title)}</h3><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def fmt(value: Any, digits: int = 2) -> str:
    """Numbers with ``digits`` decimals; missing values as '–'."""
    if value is None:
        return "–"
    if isinstance(value, (int, float)):
        return f"{value:.{digits}f}"
    return str(value)


def image_extractor_names(metrics: dict[str, Any]) -> list[str]:
    """Extractors with an ``fd_<name>`` entry, in protocol order."""
    names = metrics.get("protocol", {}).get("extractors", [])
    return [n for n in names if f"fd_{n}" in metrics]


def point_extractor_names(metrics: dict[str, Any]) -> list[str]:
    names = metrics.get("protocol", {}).get("extractors", [])
    return [n for n in names if f"fd_points_{n}" in metrics]


def primary_fd(metrics: dict[str, Any]) -> tuple[str | None, float | None]:
    """(extractor, set FD) of the extractor whose per-asset FD statistics were computed."""
    name = metrics.get("protocol", {}).get("fd_per_asset_extractor")
    return (name, metrics.get(f"fd_{name}")) if name else (None, None)


def table_i(systems: Sequence[tuple[str, dict[str, Any]]]) -> Table:
    name = next((primary_fd(m)[0] for _, m in systems if primary_fd(m)[0]), None) or "FD"
    headers = ["System", "CLIP_user", "CLIP_aug", "CLIP delta", f"FD_{name}", f"Mean FD_{name} (asset)",
               f"Std FD_{name}", f"Min FD_{name}", f"Max FD_{name}"]
    rows = []
    for system, m in systems:
        per = m.get("fd_per_asset") or {}
        rows.append([system, fmt(m.get("clip_user")), fmt(m.get("clip_aug")), fmt(m.get("clip_delta")),
                     fmt(primary_fd(m)[1]), fmt(per.get("mean")), fmt(per.get("std")), fmt(per.get("min")),
                     fmt(per.get("max"))])
    return Table("Table I (seed 000): dual CLIP and FD statistics", headers, rows)


def table_fidelity(systems: Sequence[tuple[str, dict[str, Any]]]) -> Table:
    images = list(dict.fromkeys(n for _, m in systems for n in image_extractor_names(m)))
    points = list(dict.fromkeys(n for _, m in systems for n in point_extractor_names(m)))
    headers = ["System"]
    for n in images:
        headers += [f"FD ({n}) ↓", f"KD ({n}) ×100 ↓"]
    headers += [f"FD_points ({n}) ↓" for n in points] + ["CLIP ↑"]
    rows = []
    for system, m in systems:
        row = [system]
        for n in images:
            row += [fmt(m.get(f"fd_{n}")), fmt(m.get(f"kd_{n}"))]
        row += [fmt(m.get(f"fd_points_{n}")) for n in points]
        row.append(fmt(m.get("clip_aug", m.get("clip_user"))))
        rows.append(row)
    return Table("Table 3 (seed 001): visual and geometric fidelity", headers, rows)


def table_speed(systems: Sequence[tuple[str, dict[str, Any]]]) -> Table:
    headers = ["System", "CLIP score ↑", "R@1 ↑", "R@5 ↑", "R@10 ↑", "Latency (s) ↓"]
    rows = []
    for system, m in systems:
        total = (m.get("latency_s") or {}).get("total", {}).get("mean")
        rows.append([system, fmt(m.get("clip_user")), fmt(m.get("r_at_1")), fmt(m.get("r_at_5")),
                     fmt(m.get("r_at_10")), fmt(total)])
    return Table("Table 1 (seed 002): quality and speed", headers, rows)


def latency_table(metrics: dict[str, Any]) -> Table:
    latency = metrics.get("latency_s") or {}
    rows = [[stage, fmt(s["mean"], 3), fmt(s["median"], 3), fmt(s["p95"], 3)] for stage, s in latency.items()]
    return Table("Latency per stage (seconds)", ["Stage", "Mean", "Median", "p95"], rows)


NOTES = """\
- FD and KD pool all views of all assets of each set; KD is the unbiased MMD² with the kernel
  (x·y/d + 1)³, averaged over seeded subsets and printed ×100.
- Per-asset FD: each generated asset's views against the whole reference set (no pairing of items).
- CLIP scores are 100·cos between each view and the text, averaged over views, then assets;
  CLIP delta is the mean over captioned items of CLIP_aug − CLIP_user.
- R@K (%): how often an asset's own prompt is among the K prompts of the run closest to its
  view-averaged image embedding.
"""


def png_data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def thumbnail_uri(path: Path, size: int = THUMBNAIL_SIZE) -> str:
    from PIL import Image

    with Image.open(path) as image:
        thumb = image.convert("RGB")
        thumb.thumbnail((size, size))
        buffer = io.BytesIO()
        thumb.save(buffer, format="PNG", optimize=False)
    return png_data_uri(buffer.getvalue())


HTML_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}.items{display:flex;flex-wrap:wrap;gap:10px}
.item{width:200px;font-size:12px;border:1px solid #ddd;padding:6px}.item img{width:128px;height:128px}
img.plot{max-width:640px;margin:6px}"""


def html_page(title: str, sections: list[str]) -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{HTML_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{''.join(sections)}</body></html>\n")


def plots_html(paths: list[Path]) -> str:
    images = "".join(f"<img class='plot' alt='{html.escape(p.name)}' src='{png_data_uri(p.read_bytes())}'>"
                     for p in paths)
    return f"<h2>Plots</h2>{images}" if paths else ""


def _item_cards(result: EvalResult) -> str:
    cards = []
    for row in result.items:
        source = result.thumbnails.get(row["id"])
        image = f"<img alt='{html.escape(row['id'])}' src='{thumbnail_uri(source)}'>" if source else ""
        lines = [f"<b>{html.escape(row['id'])}</b>", html.escape(row["prompt"])]
        if row.get("caption"):
            lines.append(f"<i>{html.escape(row['caption'])}</i>")
        scores = [f"{label} {fmt(row.get(key))}" for key, label in
                  (("clip_user", "CLIP_user"), ("clip_aug", "CLIP_aug"), ("fd_asset", "FD")) if key in row]
        lines.append(" · ".join(scores))
        cards.append(f"<div class='item'>{image}<br>{'<br>'.join(lines)}</div>")
    return f"<h2>Items</h2><div class='items'>{''.join(cards)}</div>"


def write_per_item_csv(result: EvalResult) -> Path:
    columns = ["id", "prompt", "caption", "clip_user", "clip_aug", "clip_delta", "fd_asset"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in result.items:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return write_text(result.out_dir / "per_item.csv", buffer.getvalue())


def _run_plots(result: EvalResult) -> list[Path]:
    from text3d.eval import plots

    out, m, rows = result.out_dir, result.metrics, result.items
    written = []
    fd_values = [r["fd_asset"] for r in rows if r.get("fd_asset") is not None]
    if fd_values:
        written.append(plots.fd_histogram(fd_values, primary_fd(m)[0] or "", out / "fd_per_asset.png"))
    pairs = [(r["clip_user"], r["clip_aug"]) for r in rows if r.get("clip_aug") is not None]
    if pairs:
        written.append(plots.clip_per_item([p[0] for p in pairs], [p[1] for p in pairs], out / "clip_per_item.png"))
    if m.get("latency_s"):
        written.append(plots.latency_bars(m["latency_s"], out / "latency.png"))
    return written


def write_run_report(result: EvalResult) -> None:
    """per_item.csv, PNG plots, report.md and report.html of one evaluation."""
    m = result.metrics
    write_per_item_csv(result)
    plot_paths = _run_plots(result)
    systems = [(m.get("system", "generated"), m)]
    tables = [table_i(systems), table_fidelity(systems), table_speed(systems)]
    if m.get("latency_s"):
        tables.append(latency_table(m))
    protocol = m.get("protocol", {})
    summary = (f"Generated items: {m['n_items']}; reference items: {m.get('n_reference', '–')}; "
               f"extractors: {', '.join(protocol.get('extractors', []))}; views: {protocol.get('views')}; "
               f"CLIP extractor: {protocol.get('clip_extractor', '–')}; KD seed: {protocol.get('seed')}.")
    warnings = [str(w) for w in m.get("warnings", [])]
    markdown = [f"# Evaluation: {m.get('system', '')}", "", summary, ""]
    markdown += [f"> Warning: {w}" for w in warnings] + ([""] if warnings else [])
    markdown += [t.markdown() for t in tables]
    markdown += ["## Definitions", "", NOTES]
    if plot_paths:
        markdown += ["## Plots", ""] + [f"![{p.stem}]({p.name})" for p in plot_paths] + [""]
    write_text(result.out_dir / "report.md", "\n".join(markdown))
    sections = [f"<p>{html.escape(summary)}</p>"] + [f"<p><strong>Warning:</strong> {html.escape(w)}</p>"
                                                     for w in warnings] + [t.html() for t in tables]
    sections += [plots_html(plot_paths), _item_cards(result)]
    write_text(result.out_dir / "report.html", html_page(f"Evaluation: {m.get('system', '')}", sections))
