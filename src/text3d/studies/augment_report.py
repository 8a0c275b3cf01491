"""The LLM-augmentation study's outputs: Table I, the cost table, correlations, Figs. 2–4, report.html.

* ``study.md`` / ``study.json``: Table I in the layout of Kim et al., Balancing Fidelity and
  Efficiency… (the registry's layout, :data:`text3d.eval.tables.PAPER_TABLES`) with the size
  class in front and *intent kept* after; mean ± std over generator seeds when there are several.
  study.json holds no timings, so the same seeds give a byte-identical file.
* ``cost.md`` / ``cost.json``: per LLM, caption latency median and p95, tokens in/out, rule
  violations and retries, the peak memory of its caption stage in a process of its own and its
  load time (:mod:`text3d.studies.caption_stage`), beside the generation seconds per asset.
* ``correlations.json``: Pearson/Spearman of CLIP_user and CLIP_aug against FD, across LLMs
  (FD = the mean per-asset FD, so that it can be resampled) and across assets (each asset's
  FD against the reference set), with 95 % bootstrap CIs over prompts (seeded).
* ``compare/``: :func:`text3d.eval.compare.compare_evaluations` of the first seed's evaluations.
* ``fig2_clip_aug_vs_fd.png``, ``fig3_clip_delta.png`` (means over seeds) and
  ``fig4_qualitative.png`` (the first 4 prompts: each LLM's caption under a view of its asset).
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import scipy.stats

from text3d.eval import metrics as M
from text3d.eval import plots
from text3d.eval.compare import compare_evaluations
from text3d.eval.report import html_page, plots_html
from text3d.eval.results import rounded
from text3d.eval.tables import PAPER_TABLES, Table, TableColumn, fmt, table_columns
from text3d.store.atomic import write_bytes, write_json, write_text

log = logging.getLogger(__name__)

BOOTSTRAP_SEED = 0
QUALITATIVE_PROMPTS = 4


def _mean_std(values: list[float | None]) -> tuple[float | None, float | None]:
    numbers = [v for v in values if v is not None]
    return (float(np.mean(numbers)), float(np.std(numbers))) if numbers else (None, None)


def _cell(mean: float | None, std: float | None, spec: str, seeds: int) -> str:
    return fmt(mean, spec) if seeds == 1 or mean is None else f"{fmt(mean, spec)} ± {fmt(std, spec)}"


def table_one(rows: list[dict[str, Any]], seeds: int) -> tuple[Table, list[dict[str, Any]]]:
    """Table I: size, model, the registry's Table I columns (CLIP_user, CLIP_aug, CLIP delta,
    FD, per-asset FD mean/std/min/max) and intent kept; also its numbers per row."""
    layout = PAPER_TABLES[0]
    loaded = [[json.loads((Path(d) / "metrics.json").read_text()) for d in row["eval_dirs"]] for row in rows]
    columns: dict[str, TableColumn] = {}
    for metrics_list in loaded:
        for column in table_columns(metrics_list[0]):
            columns.setdefault(column.name, column)
    names = []
    for entry in layout.entries:
        assert isinstance(entry, str)
        protocol = next((m[0].get("protocol") or {} for m in loaded), {})
        name = entry.replace("{fd_per_asset_extractor}", str(protocol.get("fd_per_asset_extractor")))
        if name in columns:
            names.append(name)
    has_intent = any(row["mean"].get("intent_kept") is not None for row in rows)
    headers = ["Size", "Model"] + [columns[n].header for n in names] + (["Intent kept ↑"] if has_intent else [])
    cells, numbers = [], []
    for row, metrics_list in zip(rows, loaded):
        record: dict[str, Any] = {"size": row["size"], "model": row["llm"], "family": row["family"]}
        line = [row["size"], row["llm"]]
        for name in names:
            values = [columns[name].value(m) for m in metrics_list]
            mean, std = _mean_std(values)
            record[name], record[f"{name}_std"] = mean, std
            line.append(_cell(mean, std, columns[name].fmt, seeds))
        if has_intent:
            mean, std = row["mean"].get("intent_kept"), row["mean"].get("intent_kept_std")
            record["intent_kept"], record["intent_kept_std"] = mean, std
            line.append(_cell(mean, std, ".2f", seeds))
        cells.append(line)
        numbers.append(record)
    title = layout.title + " (with size class and intent kept)"
    return Table(title, headers, cells), numbers


COST_KEYS = (("caption_latency_median_s", "Caption latency median (s)", ".3f"),
             ("caption_latency_p95_s", "Caption latency p95 (s)", ".3f"),
             ("tokens_in", "Tokens in", ".0f"), ("tokens_out", "Tokens out", ".0f"),
             ("violations", "Rule violations", ".0f"), ("retries", "Retries", ".0f"),
             ("caption_peak_mb", "Caption peak memory (MB)", ".0f"), ("caption_load_s", "LLM load (s)", ".2f"),
             ("generate_s_per_asset", "Generation (s/asset)", ".3f"))


def cost_table(rows: list[dict[str, Any]]) -> tuple[Table, list[dict[str, Any]]]:
    """Per LLM: caption latency, tokens, violations and retries (mean over seeds) beside the
    generation seconds per asset."""
    cells, numbers = [], []
    for row in rows:
        record = {"model": row["llm"], **{k: row["mean"].get(k) for k, _, _ in COST_KEYS}}
        numbers.append(record)
        cells.append([row["llm"]] + [fmt(record[k], spec) for k, _, spec in COST_KEYS])
    return Table("Cost of augmentation per LLM (mean over seeds)", ["Model"] + [h for _, h, _ in COST_KEYS],
                 cells), numbers


def _fast_corr(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(Pearson r, Spearman ρ); NaN when either input is constant or shorter than 3."""
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan"), float("nan")
    rx, ry = scipy.stats.rankdata(x), scipy.stats.rankdata(y)
    return float(np.corrcoef(x, y)[0, 1]), float(np.corrcoef(rx, ry)[0, 1])


def _interval(samples: list[float]) -> list[float] | None:
    finite = np.asarray([s for s in samples if np.isfinite(s)])
    return [float(np.percentile(finite, 2.5)), float(np.percentile(finite, 97.5))] if finite.size else None


def _item_matrix(rows: list[dict[str, Any]], key: str) -> np.ndarray:
    """(LLMs, seeds, prompts) of a per-asset column (NaN where missing); items in id order."""
    return np.asarray([[[np.nan if it.get(key) is None else it[key] for it in items] for items in row["items"]]
                       for row in rows], dtype=np.float64)


def correlations(rows: list[dict[str, Any]], samples: int = 1000) -> dict[str, Any]:
    """Pearson/Spearman of CLIP_user and CLIP_aug against FD across LLMs and across assets, with
    95 % bootstrap intervals over prompts (seeded, ``samples`` resamples)."""
    fd = _item_matrix(rows, "fd_asset")
    if np.all(np.isnan(fd)):
        return {"note": "no reference: no per-asset FD to correlate"}
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    n_prompts = fd.shape[2]
    draws = [rng.integers(0, n_prompts, n_prompts) for _ in range(samples)]
    result: dict[str, Any] = {"bootstrap": {"samples": samples, "seed": BOOTSTRAP_SEED, "over": "prompts"}}
    for key in ("clip_user", "clip_aug"):
        clip = _item_matrix(rows, key)

        everything = np.arange(n_prompts)
        for scope in ("across_llms", "across_assets"):
            full = M.correlations(*_pairs(everything, clip, fd, scope))
            boot = [_fast_corr(*_pairs(idx, clip, fd, scope)) for idx in draws]
            result[f"{key}_vs_fd_{scope}"] = {
                "n": full["n"], "pearson_r": full["pearson_r"], "pearson_p": full["pearson_p"],
                "pearson_ci95": _interval([b[0] for b in boot]), "spearman_r": full["spearman_r"],
                "spearman_p": full["spearman_p"], "spearman_ci95": _interval([b[1] for b in boot])}
    return rounded(result)


def _pairs(idx: np.ndarray, clip: np.ndarray, fd: np.ndarray, scope: str) -> tuple[np.ndarray, np.ndarray]:
    """(CLIP, FD) of the prompts ``idx``: per-LLM means (across LLMs) or every finite asset pair."""
    if scope == "across_llms":
        return np.nanmean(clip[:, :, idx], axis=(1, 2)), np.nanmean(fd[:, :, idx], axis=(1, 2))
    x, y = clip[:, :, idx].ravel(), fd[:, :, idx].ravel()
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def correlation_table(document: dict[str, Any]) -> Table:
    """The correlations as a table (r, 95 % CI, p per statistic)."""
    def ci(value: list[float] | None) -> str:
        return f"[{value[0]:.2f}, {value[1]:.2f}]" if value else "–"

    cells = [[name, str(c["n"]), fmt(c["pearson_r"], ".3f"), ci(c["pearson_ci95"]), fmt(c["pearson_p"], ".3f"),
              fmt(c["spearman_r"], ".3f"), ci(c["spearman_ci95"]), fmt(c["spearman_p"], ".3f")]
             for name, c in document.items() if isinstance(c, dict) and "pearson_r" in c]
    return Table("Correlations with FD (95 % bootstrap CI over prompts)",
                 ["Pair", "n", "Pearson r", "CI", "p", "Spearman ρ", "CI", "p"], cells)


def qualitative_sheet(rows: list[dict[str, Any]], path: Path) -> Path | None:
    """Fig. 4: for the first prompts, each LLM's caption under the first canonical4 view of its
    asset (first seed); one row per prompt, one column per LLM."""
    from PIL import Image

    from text3d.render.preview import contact_sheet
    from text3d.store.folders import RunFolder

    images, labels = [], []
    n = min(QUALITATIVE_PROMPTS, min(len(row["items"][0]) for row in rows))
    for k in range(n):
        for row in rows:
            item = row["items"][0][k]
            views = RunFolder(row["run_dirs"][0]).item(item["id"]).view_paths("canonical4")
            if not views:
                return None
            images.append(np.asarray(Image.open(views[0]).convert("RGB")))
            labels.append(f"{row['llm']}: {item.get('caption') or item['prompt']}")
    if not images:
        return None
    sheet = contact_sheet(images, labels, columns=len(rows), cell=160)
    buffer = io.BytesIO()
    Image.fromarray(sheet).save(buffer, format="PNG")
    return write_bytes(path, buffer.getvalue())


def fd_label(key: str | None) -> str:
    """``fd_embedded`` → ``FD (embedded)``."""
    return f"FD ({key[len('fd_'):]})" if key else "FD"


def write_study(out: Path, config: Any, data: Any, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Write every output of the study into ``out``; returns study.json's content. ``config`` and
    ``data`` are :mod:`text3d.studies.augment`'s StudyConfig and Dataset (not imported: that
    module imports this one)."""
    seeds = len(config.seeds)
    table, numbers = table_one(rows, seeds)
    costs, cost_numbers = cost_table(rows)
    corr = correlations(rows, config.bootstrap)
    setup = {"llms": list(config.llms), "n": len(data.prompts), "backend": config.backend,
             "generator_seeds": list(config.seeds), "dataset": data.name, "resolution": config.resolution,
             "candidates": config.candidates}
    if data.seeds:
        setup["heldout_seeds"] = data.seeds
    document = rounded({"setup": setup, "table_i": {"headers": table.headers, "rows": table.rows},
                        "rows": numbers, "correlations": corr})
    write_json(out / "study.json", document)
    write_json(out / "cost.json", rounded({"setup": setup, "rows": cost_numbers}))
    write_json(out / "correlations.json", corr)

    figures: list[Path] = []
    if len(rows) >= 2:
        compare_evaluations([row["eval_dirs"][0] for row in rows], out / "compare")
    fd_key = next((k for k in numbers[0] if k.startswith("fd_") and not k.startswith("fd_per_asset")
                   and not k.endswith("_std")), None)
    scatter = [(r["model"], r.get("clip_aug"), r.get(fd_key) if fd_key else None, r["family"]) for r in numbers]
    scatter = [s for s in scatter if s[1] is not None and s[2] is not None]
    if scatter:
        figures.append(plots.clip_aug_vs_fd([s[0] for s in scatter], [s[1] for s in scatter],
                                            [s[2] for s in scatter], [s[3] for s in scatter], fd_label(fd_key),
                                            out / "fig2_clip_aug_vs_fd.png"))
    deltas = [(r["model"], r.get("clip_delta"), r["family"]) for r in numbers if r.get("clip_delta") is not None]
    if deltas:
        figures.append(plots.clip_delta_bars([d[0] for d in deltas], [d[1] for d in deltas],
                                             [d[2] for d in deltas], out / "fig3_clip_delta.png"))
    sheet = qualitative_sheet(rows, out / "fig4_qualitative.png")
    if sheet is not None:
        figures.append(sheet)

    tables = [table, costs] + ([correlation_table(corr)] if "note" not in corr else [])
    line = (f"{len(data.prompts)} prompts ({data.name}"
            + (f", {data.seeds['line']}" if data.seeds else "") + f"); backend {config.backend}; "
            f"generator seeds {', '.join(map(str, config.seeds))}"
            + ("; mean ± std over seeds" if seeds > 1 else "") + ".")
    markdown = ["# LLM prompt-augmentation study", "", line, "", table.markdown()]
    markdown += [correlation_table(corr).markdown()] if "note" not in corr else [corr["note"], ""]
    compared = "; first seed compared: compare/" if len(rows) >= 2 else ""  # one LLM has nothing to compare
    markdown += [f"Cost per LLM: cost.md. Per-LLM evaluations: evals/{compared}.", ""]
    markdown += [f"![{p.stem}]({p.name})" for p in figures] + [""]
    write_text(out / "study.md", "\n".join(markdown))
    write_text(out / "cost.md", "\n".join(["# Cost of augmentation", "", line, "", costs.markdown()]))
    notes = [f"<p>{line}</p>"] + ([f"<p>{corr['note']}</p>"] if "note" in corr else [])
    write_text(out / "report.html", html_page("LLM prompt-augmentation study",
                                              notes + [t.html() for t in tables] + [plots_html(figures)]))
    return document
