"""The files of a localization run: ``localization.json`` and ``localization.csv`` (one row per
prompt), ``heatmaps/NNN.png`` (the prompt's words on a white → red scale of their attribution,
normalized by the prompt's largest), and ``index.html`` (the table with the same colors inline
and the heat-maps). Every file is written atomically."""

from __future__ import annotations

import csv
import html
import io
from pathlib import Path
from typing import Any

from text3d.store.atomic import write_bytes, write_json, write_text

CSV_COLUMNS = ("index", "prompt", "q_l", "q_g", "bias", "w_h", "w_h_attribution", "w_l", "w_l_attribution",
               "words", "heatmap")


def _chosen(row: dict[str, Any], w: dict[str, Any], which: str) -> bool:
    """Whether the word entry ``w`` is the row's ``which`` (w_h / w_l): by its position in the prompt
    (a word may occur twice), or by its text for a table written before positions were kept."""
    start = row.get(f"{which}_start")
    return w["start"] == start if start is not None else w["word"] == row[which]


def _marked(row: dict[str, Any], w: dict[str, Any]) -> bool:
    return _chosen(row, w, "w_h") or _chosen(row, w, "w_l")


def _attribution(row: dict[str, Any], which: str) -> float | None:
    return next((w["attribution"] for w in row["words"] if _chosen(row, w, which)), None)


def heatmap_name(index: int) -> str:
    """``heatmaps/003.png`` for prompt 3."""
    return f"heatmaps/{index:03d}.png"


def write_heatmap(row: dict[str, Any], path: Path) -> Path:
    """One prompt's words laid out left to right, each on a cell colored by e'_w / max e'_w (Reds),
    the value under it; w_h and w_l underlined."""
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    words = row["words"]
    peak = max((w["attribution"] for w in words), default=0.0) or 1.0
    width = max(3.0, 0.16 * sum(len(w["word"]) + 2 for w in words) + 0.4)
    figure = Figure(figsize=(width, 1.25))
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_axis_off()
    cmap = colormaps["Reds"]
    x = 0.02
    total = sum(len(w["word"]) + 2 for w in words) or 1
    for w in words:
        share = (len(w["word"]) + 2) / total * 0.96
        level = w["attribution"] / peak
        axes.add_patch(_rectangle(x, 0.35, share * 0.96, 0.5, cmap(0.05 + 0.9 * level)))
        style = {"fontweight": "bold"} if _marked(row, w) else {}
        axes.text(x + share * 0.48, 0.6, w["word"], ha="center", va="center", fontsize=11,
                  color="white" if level > 0.6 else "black", **style)
        axes.text(x + share * 0.48, 0.15, f"{w['attribution']:.3g}", ha="center", va="center", fontsize=7,
                  color="#444444")
        x += share
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return write_bytes(path, buffer.getvalue())


def _rectangle(x: float, y: float, w: float, h: float, color: Any):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=color, edgecolor="white")


def csv_text(table: dict[str, Any]) -> str:
    """The CSV table: one row per prompt, words as ``word=attribution`` joined by spaces."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for index, row in enumerate(table["prompts"]):
        words = " ".join(f"{w['word']}={w['attribution']:.6g}" for w in row["words"])
        writer.writerow([index, row["prompt"], row["q_l"], row["q_g"], row["bias"], row["w_h"],
                         _attribution(row, "w_h"), row["w_l"], _attribution(row, "w_l"), words,
                         heatmap_name(index)])
    return buffer.getvalue()


def _word_span(word: dict[str, Any], peak: float, marked: bool) -> str:
    alpha = 0.08 + 0.8 * word["attribution"] / peak
    underline = ";text-decoration:underline" if marked else ""
    return (f'<span title="{word["attribution"]:.4g}" style="background:rgba(200,30,30,{alpha:.2f}){underline}">'
            f'{html.escape(word["word"])}</span>')


def html_page(table: dict[str, Any]) -> str:
    """A self-contained page: settings, q_g, and per prompt its words colored by attribution."""
    s = table["settings"]
    rows = []
    for index, row in enumerate(table["prompts"]):
        peak = max((w["attribution"] for w in row["words"]), default=0.0) or 1.0
        spans = " ".join(_word_span(w, peak, _marked(row, w)) for w in row["words"])
        rows.append(f"<tr><td>{index}</td><td>{spans}</td><td>{row['q_l']:.3f}</td><td>{row['bias']:+.3f}</td>"
                    f"<td>{html.escape(str(row['w_h']))}</td><td>{html.escape(str(row['w_l']))}</td>"
                    f'<td><img src="{heatmap_name(index)}" height="40" alt="heat-map {index}"></td></tr>')
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>text3d bias localization</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left}}
span{{padding:1px 3px;border-radius:3px}}</style></head><body>
<h1>Word-level bias localization</h1>
<p>Generator <code>{html.escape(str(s['backend']))}</code>, evaluator <code>{html.escape(str(s['evaluator']))}</code>
(dimension <code>{html.escape(str(s['dimension']))}</code>, scale {html.escape(str(table.get('evaluator_scale', '')))}),
D = {s['samples']} assets per prompt (seeds {s['seed']}–{s['seed'] + s['samples'] - 1}).
Global score q<sub>g</sub> = {table['q_g']:.3f}. Word color: e'<sub>w</sub> = Σ over the word's tokens
of Σ|∂q<sub>l</sub>/∂e<sub>i</sub>|, relative to the prompt's largest; underlined: w<sub>h</sub> and
w<sub>l</sub>.</p>
<table><tr><th>#</th><th>prompt</th><th>q<sub>l</sub></th><th>q<sub>l</sub> − q<sub>g</sub></th><th>w<sub>h</sub></th>
<th>w<sub>l</sub></th><th>heat-map</th></tr>
{chr(10).join(rows)}
</table></body></html>
"""


def write_outputs(table: dict[str, Any], out: Path) -> dict[str, Path]:
    """Write the JSON and CSV tables, one heat-map per prompt and the HTML page into ``out``."""
    paths = {"json": write_json(out / "localization.json", table),
             "csv": write_text(out / "localization.csv", csv_text(table))}
    (out / "heatmaps").mkdir(exist_ok=True)
    for index, row in enumerate(table["prompts"]):
        write_heatmap(row, out / heatmap_name(index))
    paths["html"] = write_text(out / "index.html", html_page(table))
    return paths
