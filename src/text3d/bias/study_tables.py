"""The tables of ``text3d bias study`` (kinds or groups as rows, models as columns):

* ``mate3d``: the evaluator's score per toyworld kind, before (base) / after (full), relative change
  — the layout of the paper's MATE-3D table, transposed (kinds as rows);
* ``t3bench``: the same in T³Bench's tracks, normalized to [0, 100]: Single Obj. = basic, refined
  and paraphrase prompts; w/ Env = complex prompts (an object with an extra part or pattern: toyworld
  has no surroundings, so this is the nearest kind, not T³Bench's track); Multi-Obj. = grouped;
* ``clip_r1``: CLIP score and R@1 (the asset's own prompt is the most CLIP-similar of its kind's
  prompts) per kind, before / after;
* ``ablation``: the evaluator's score per kind for the base model and every word-choice variant;
* one table per benchmark prompt list given (MATE-3D categories, T³Bench tracks);
* ``checks``: the issue's bars (complex and grouped +5 % relative in score and R@1, basic ≥ −2 %).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from text3d.eval.evaluators.base import Evaluator
from text3d.store.atomic import write_json, write_text

T3BENCH_ROWS = {"Single Obj.": ("basic", "refined", "paraphrase"), "w/ Env": ("complex",), "Multi-Obj.": ("grouped",)}
LABELS = {"base": "base", "random": "w/o grad guide", "w_h": "only w_h", "w_l": "only w_l", "full": "full"}


def r_at_1(similarity: np.ndarray) -> float | None:
    """Share of assets i whose own prompt is the most similar of the group: argmax_j S[i, j] = i
    (S: assets × prompts). None for a group of fewer than 2: its one asset ranks first whatever it is."""
    if len(similarity) < 2:
        return None
    return float(np.mean(similarity.argmax(axis=1) == np.arange(len(similarity))))


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _rel(after: float | None, before: float | None) -> float | None:
    if after is None or before is None or before == 0:
        return None
    return round(100.0 * (after - before) / abs(before), 2)


def _table(title: str, rows: list[str], columns: list[str], values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"title": title, "rows": rows, "columns": columns,
            "values": [[values[r].get(c) for c in columns] for r in rows]}


def build_tables(results: dict[str, dict[str, dict[str, dict[str, Any]]]], scale: str) -> dict[str, Any]:
    """Every table from the per-model results {model: {set: {group: {scores, similarity}}}}."""
    after = "full" if "full" in results else [m for m in results if m != "base"][-1] if len(results) > 1 else "base"
    norm = 10.0 if scale == "0–10" else 1.0  # to [0, 100]: HyperScore's 0–10 × 10; CLIP's 100·cos as is
    toy = {m: r["toyworld"] for m, r in results.items()}
    kinds = list(toy["base"])
    score = {m: {k: float(np.mean(toy[m][k]["scores"])) for k in kinds} for m in toy}
    r1 = {m: {k: r_at_1(toy[m][k]["similarity"]) for k in kinds} for m in toy}
    clip = {m: {k: float(np.mean(np.diag(toy[m][k]["similarity"]))) for k in kinds} for m in toy}
    r = 4
    mate = {k: {"base": round(score["base"][k], r), after: round(score[after][k], r),
                "Δ %": _rel(score[after][k], score["base"][k])} for k in kinds}
    tables = {"after": after, "mate3d": _table(f"Evaluator score per kind (MATE-3D layout), base → {after}", kinds,
                                               ["base", after, "Δ %"], mate)}
    t3 = {}
    for track, members in T3BENCH_ROWS.items():
        present = [k for k in members if k in kinds]
        if present:
            b = norm * float(np.mean(np.concatenate([toy["base"][k]["scores"] for k in present])))
            a = norm * float(np.mean(np.concatenate([toy[after][k]["scores"] for k in present])))
            t3[track] = {"base": round(b, 2), after: round(a, 2), "Δ %": _rel(a, b), "kinds": "+".join(present)}
    tables["t3bench"] = _table("Evaluator score per T³Bench track, [0, 100]", list(t3), ["base", after, "Δ %", "kinds"],
                               t3)
    cr = {k: {"CLIP base": round(clip["base"][k], 3), f"CLIP {after}": round(clip[after][k], 3),
              "R@1 base": _round(r1["base"][k], 3), f"R@1 {after}": _round(r1[after][k], 3),
              "R@1 Δ %": _rel(r1[after][k], r1["base"][k])} for k in kinds}
    tables["clip_r1"] = _table("CLIP score and R@1 per kind", kinds, list(next(iter(cr.values()))), cr)
    models = list(results)
    ab = {k: {LABELS.get(m, m): round(score[m][k], r) for m in models} for k in kinds}
    tables["ablation"] = _table("Ablation: evaluator score per kind and word choice", kinds,
                                [LABELS.get(m, m) for m in models], ab)
    for set_name in results["base"]:
        if set_name == "toyworld":
            continue
        groups = list(results["base"][set_name])
        values = {g: {LABELS.get(m, m): round(norm * float(np.mean(results[m][set_name][g]["scores"])), 2)
                      for m in models} for g in groups}
        tables[set_name] = _table(f"{set_name}: evaluator score per group, [0, 100]", groups,
                                  [LABELS.get(m, m) for m in models], values)
    checks = {}
    for k in ("complex", "grouped"):
        if k in kinds:
            checks[f"{k} score +5 %"] = (_rel(score[after][k], score["base"][k]) or 0) >= 5.0
            checks[f"{k} R@1 +5 %"] = (_rel(r1[after][k], r1["base"][k]) or 0) >= 5.0
    if "basic" in kinds:
        checks["basic score ≥ −2 %"] = (_rel(score[after]["basic"], score["base"]["basic"]) or 0) >= -2.0
    tables["checks"] = checks
    return tables


def markdown(tables: dict[str, Any]) -> str:
    """The tables as Markdown (kinds or groups as rows)."""
    parts = []
    for table in tables.values():
        if not isinstance(table, dict) or "rows" not in table:
            continue
        head = "| | " + " | ".join(table["columns"]) + " |\n|---|" + "---|" * len(table["columns"]) + "\n"
        body = "".join(f"| {row} | " + " | ".join("—" if v is None else str(v) for v in values) + " |\n"
                       for row, values in zip(table["rows"], table["values"]))
        parts.append(f"### {table['title']}\n\n{head}{body}")
    checks = "".join(f"* {name}: {'yes' if ok else 'no'}\n" for name, ok in tables.get("checks", {}).items())
    return "\n".join(parts) + (f"\n### Bars\n\n{checks}" if checks else "")


def all_runs_seconds(path: Path, this_run: dict[str, float]) -> dict[str, float]:
    """Seconds per stage over every run of the study: those an earlier ``tables.json`` recorded plus
    this run's. A rerun that resumes finished stages adds their few seconds and keeps the figures of
    the runs that did the work (it replaced them with its own)."""
    try:
        earlier = json.loads(path.read_text()).get("seconds") or {}
    except (OSError, ValueError, AttributeError):
        earlier = {}
    earlier = {k: v for k, v in earlier.items() if isinstance(v, (int, float))} if isinstance(earlier, dict) else {}
    return {k: round(earlier.get(k, 0.0) + this_run.get(k, 0.0), 1) for k in {**earlier, **this_run}}


def write_tables(out: Path, results: dict[str, Any], augment: dict[str, Any], settings: Any, evaluator: Evaluator,
                 seconds: dict[str, float]) -> dict[str, Any]:
    """``tables.json`` and ``tables.md`` in ``out``; returns the JSON."""
    tables = build_tables(results, evaluator.scale)
    this_run = {k: round(v, 1) for k, v in seconds.items()}
    record = {"settings": json.loads(json.dumps(asdict(settings))), "evaluator": evaluator.name,
              "evaluator_scale": evaluator.scale, "augment": augment,
              "seconds": all_runs_seconds(out / "tables.json", this_run), "seconds_this_run": this_run, **tables}
    write_json(out / "tables.json", record)
    shared = "".join(f"* Word choice {variant} kept the same pairs as {a['same_pairs_as']} (the augmenter wrote "
                     "the same contexts for both): one model, so its figures are that column's.\n"
                     for variant, a in augment.items() if a.get("same_pairs_as"))
    write_text(out / "tables.md", f"# Bias study ({settings.split} seeds, n = {settings.n} per kind, evaluator "
                                  f"{evaluator.name})\n\n" + markdown(tables)
               + (f"\n### Word choices that coincide\n\n{shared}" if shared else ""))
    return record
