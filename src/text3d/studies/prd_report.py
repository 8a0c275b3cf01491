"""The TriplaneTurbo study's outputs: Tables 1–4 and the dual-rendering ablation in the paper's
layouts (text3d's rows with the published ones beside), the issue's bars as ratios, study.md,
study.json (no timings outside the latency column) and report.html."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from text3d.eval.report import html_page
from text3d.eval.results import rounded
from text3d.eval.tables import Table, fmt
from text3d.store.atomic import write_json, write_text
from text3d.studies.prd import MAIN, PUBLISHED, TABLES

HEADERS = ["Method", "C.S. ↑", "R@1 ↑", "Latency (s) ↓"]
BARS = {"clip_ratio": 0.85, "r_at_1_ratio": 0.75, "speedup": 4.0, "latency_s": 0.15}
"""The issue's bars: embedded-turbo ≥ 85 % of the multi-step generator's CLIP score and ≥ 75 % of its
R@1, ≥ 4× faster, ≤ 0.15 s per asset end to end."""


def _line(label: str, row: dict[str, Any] | None) -> list[str]:
    if row is None:
        return [label, "not run", "", ""]
    return [label, fmt(row.get("clip"), ".2f"), fmt(row.get("r_at_1"), ".2f"), fmt(row.get("latency_s"), ".3f")]


def _published(key: str) -> list[list[str]]:
    return [[f"{name} (paper)", f"{cs:.1f}", f"{r1:.2f}", "" if lat is None else f"{lat:.2f}"]
            for name, cs, r1, lat in PUBLISHED.get(key, [])]


def study_tables(rows: dict[str, dict[str, Any]]) -> list[Table]:
    """Table 1 (text3d's rows, then the paper's) and the ablation tables (each with the paper's rows)."""
    table1 = Table("Table 1: text-to-mesh quality and latency (toyworld, embedded encoders; paper rows at its scale)",
                   HEADERS, [_line("procedural (ground truth)", rows.get("procedural")),
                             _line("embedded (multi-step DiT)", rows.get("embedded")),
                             _line("embedded-turbo (PRD, K=4)", rows.get(MAIN))] + _published("table1"))
    tables = [table1]
    for key, (title, entries) in TABLES.items():
        cells = [_line(label, rows.get(name)) for label, name in entries]
        tables.append(Table(title, HEADERS, cells + _published(key)))
    return tables


def bars(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The issue's ratios of embedded-turbo to the multi-step embedded generator, with pass/fail."""
    turbo, multi = rows.get(MAIN) or {}, rows.get("embedded") or {}

    def ratio(a: Any, b: Any) -> float | None:
        return a / b if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else None

    measured = {"clip_ratio": ratio(turbo.get("clip"), multi.get("clip")),
                "r_at_1_ratio": ratio(turbo.get("r_at_1"), multi.get("r_at_1")),
                "speedup": ratio(multi.get("latency_s"), turbo.get("latency_s")),
                "latency_s": turbo.get("latency_s")}
    passed = {k: (v is not None and (v <= BARS[k] if k == "latency_s" else v >= BARS[k])) for k, v in measured.items()}
    return {"measured": measured, "bars": BARS, "passed": passed}


def write_prd_study(out: Path, config: Any, seeds: dict[str, Any], rows: dict[str, dict[str, Any]],
                    students: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Write study.md, study.json and report.html into ``out``; returns study.json's content."""
    tables = study_tables(rows)
    verdict = bars(rows)
    document = rounded({"setup": {"n": config.n, "seed": config.seed, "seeds": seeds, "steps": config.steps,
                                  "teacher": config.teacher, "resolution": config.resolution},
                        "rows": rows, "bars": verdict,
                        "students": {k: {"parameters": v.get("parameters"), "cpu_minutes": v.get("cpu_minutes")}
                                     for k, v in students.items()}})
    write_json(out / "study.json", document)
    m = verdict["measured"]
    line = (f"{config.n} held-out prompts ({seeds['line']}); C.S. = CLIP score ×100 of the asset's views "
            "against the prompt, R@1 over the distinct prompts, latency = median augment + generate + GLB "
            "per asset on this machine.")
    summary = (f"embedded-turbo vs the multi-step embedded generator: CLIP {fmt(m['clip_ratio'], '.2f')}× "
               f"(bar ≥ 0.85), R@1 {fmt(m['r_at_1_ratio'], '.2f')}× (bar ≥ 0.75), "
               f"{fmt(m['speedup'], '.1f')}× faster (bar ≥ 4), {fmt(m['latency_s'], '.3f')} s per asset "
               "(bar ≤ 0.15).")
    trainable = {k: (v.get("parameters") or {}).get("trainable_fraction") for k, v in students.items()}
    fractions = ", ".join(f"{k} {100 * f:.2f} %" for k, f in trainable.items() if isinstance(f, (int, float)))
    notes = [line, summary] + ([f"Trainable fraction of the students (paper: PETA 2.5 %): {fractions}."]
                               if fractions else [])
    markdown = ["# TriplaneTurbo study", ""] + [n + "\n" for n in notes] + [t.markdown() for t in tables]
    write_text(out / "study.md", "\n".join(markdown))
    write_text(out / "report.html", html_page("TriplaneTurbo study", [f"<p>{n}</p>" for n in notes]
                                              + [t.html() for t in tables]))
    return document
