"""The TriplaneTurbo study's outputs: Tables 1–4 and the dual-rendering ablation in the paper's
layouts (text3d's rows with the published ones beside), the issue's bars as ratios, study.md,
study.json (no timings outside the latency column) and report.html."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from text3d.eval.report import html_page, plots_html
from text3d.eval.results import rounded
from text3d.eval.tables import Table, fmt
from text3d.store.atomic import write_json, write_text
from text3d.train.prd_config import PRDTrainConfig

MAIN = "peta"
"""text3d's default student: :class:`PRDTrainConfig`'s defaults (PETA; K = 1, since one supervised step
per example sees more prompts in the CPU budget than the paper's K = 4)."""
MAIN_K = PRDTrainConfig().denoise_steps

ABLATIONS: dict[str, dict[str, Any]] = {
    **{f"k{k}": {"denoise_steps": k} for k in (1, 2, 4)},
    "peta": {"adaptation": "peta"}, "lora": {"adaptation": "lora"}, "full": {"adaptation": "full"},
    "both": {"renderers": "both"}, "volume": {"renderers": "volume"}, "mesh": {"renderers": "mesh"},
    "normals": {"supervise": "all"}, "rgb": {"supervise": "rgb"},
    "generator": {"signal": "generator"},
}
"""Every ablation row's PRD settings. A row whose settings are the trainer's defaults is the default
student's row (:func:`row_of`); the others are the study's variants."""


def row_of(name: str, defaults: PRDTrainConfig | None = None) -> str:
    """The study row that measures ``name``: :data:`MAIN` when its settings are ``defaults`` (the
    trainer's)."""
    defaults = defaults or PRDTrainConfig()
    settings = ABLATIONS.get(name)
    if settings is not None and all(getattr(defaults, k) == v for k, v in settings.items()):
        return MAIN
    return name


TABLES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "table2": ("Table 2: denoising steps K (students trained with K steps; the paper proposes K=4)",
               [("K=1", "k1"), ("K=2", "k2"), ("K=4", "k4")]),
    "table2_sampled": ("Table 2, sampled: the K=4 student sampled with K' of its steps",
                       [("K'=1", "k4@1"), ("K'=2", "k4@2"), ("K'=4", "k4")]),
    "table3": ("Table 3: adaptation", [("Full param tuning", "full"), ("w/ Basic LoRA", "lora"),
                                       ("w/ PETA (proposed)", "peta")]),
    "table4": ("Table 4: teacher signals (RGB only, RGB + normals/depth as RichDreamer's, a 3D generator's renders)",
               [("RGB only", "rgb"), ("RGB + normals/depth (proposed)", "normals"),
                ("embedded 3D generator's renders", "generator")]),
    "dual": ("Dual rendering", [("volume only", "volume"), ("mesh only", "mesh"), ("both (proposed)", "both")]),
}
"""Each ablation table's rows: (label, :data:`ABLATIONS` name or a sampled row); "(proposed)" marks the
paper's proposal, and the row of text3d's default student is marked where the table is made."""

PUBLISHED: dict[str, list[tuple[str, float, float, float | None]]] = {
    "table1": [("Shap-E", 55.1, 27.1, 13.0), ("Direct3D", 60.8, 4.33, 16.0), ("3DTopia", 59.7, 11.2, 23.7),
               ("PI3D*", 65.9, 25.2, 3.00), ("GVGEN", 51.1, 2.44, 49.2), ("LN3Diff", 55.9, 5.09, 8.16),
               ("LGM", 67.4, 28.3, 56.1), ("TriplaneTurbo", 68.2, 32.3, 1.23),
               ("TriplaneTurbo + more text data", 75.1, 46.0, 1.23)],
    "table2": [("K=1", 50.9, 14.4, None), ("K=2", 62.6, 22.4, None), ("K=4 (proposed)", 68.2, 32.3, None)],
    "table3": [("Full param tuning", 35.8, 0.35, None), ("w/ Basic LoRA", 54.2, 11.1, None),
               ("w/ PETA (proposed)", 68.2, 32.3, None)],
    "table4": [("w/o SD", 63.0, 20.1, None), ("w/o MV", 67.4, 25.9, None), ("w/o RD", 41.5, 11.4, None),
               ("w/ All (proposed)", 68.2, 32.3, None)],
}
"""The paper's rows (CLIP score, R@1, latency s on its GPU) — its scale, not comparable to toyworld's."""

HEADERS = ["Method", "C.S. ↑", "R@1 ↑", "Latency (s) ↓"]
BARS = {"clip_ratio": 0.85, "r_at_1_ratio": 0.75, "speedup": 4.0, "latency_s": 0.15}
"""The issue's bars: embedded-turbo ≥ 85 % of the multi-step generator's CLIP score and ≥ 75 % of its
R@1, ≥ 4× faster, ≤ 0.15 s per asset end to end."""


def _line(label: str, row: dict[str, Any] | None) -> list[str]:
    if row is None:
        return [label, "not run", "", ""]
    if row.get("assets") == 0:
        return [f"{label} (no asset for any of the {row['n']} prompts)", "–", "–", "–"]
    if row.get("assets") is not None and row["assets"] < row["n"]:
        label = f"{label} ({row['assets']} of {row['n']} with an asset)"
    return [label, fmt(row.get("clip"), ".2f"), fmt(row.get("r_at_1"), ".2f"), fmt(row.get("latency_s"), ".3f")]


def _marked(label: str) -> str:
    """``label`` of the default student's row, marked as such."""
    if "(proposed)" in label:
        return label.replace("(proposed)", "(proposed, text3d default)")
    return f"{label} (text3d default)"


def _published(key: str) -> list[list[str]]:
    return [[f"{name} (paper)", f"{cs:.1f}", f"{r1:.2f}", "" if lat is None else f"{lat:.2f}"]
            for name, cs, r1, lat in PUBLISHED.get(key, [])]


def study_tables(rows: dict[str, dict[str, Any]]) -> list[Table]:
    """Table 1 (text3d's rows, then the paper's) and the ablation tables (each with the paper's rows)."""
    table1 = Table("Table 1: text-to-mesh quality and latency (toyworld, embedded encoders; paper rows at its scale)",
                   HEADERS, [_line("procedural (ground truth)", rows.get("procedural")),
                             _line("embedded (multi-step DiT)", rows.get("embedded")),
                             _line(f"embedded-turbo (PRD, K={MAIN_K})", rows.get(MAIN))] + _published("table1"))
    tables = [table1]
    for key, (title, entries) in TABLES.items():
        cells = [_line(_marked(label) if row_of(name) == MAIN else label, rows.get(row_of(name)))
                 for label, name in entries]
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


SHEET_PROMPTS = 12
SHEET_VIEW = 1
"""canonical4's second view (yaw 90°): a side view shows most objects' shape."""
STUDENTS_SHEET = "students_sheet.png"
"""Every student's assets of the first prompts, one row each (written when the study has several)."""


def contact_sheet_figure(out: Path, prompts: list[str], path: Path, columns: int = 6,
                         rows: tuple[tuple[str, str], ...] = (("embedded", "multi-step"), (MAIN, "turbo")),
                         count: int = SHEET_PROMPTS) -> Path | None:
    """The first ``count`` prompts' assets, one sheet row per study row of ``rows`` ((run name, label);
    default: the multi-step embedded generator over embedded-turbo), ``columns`` prompts a band; an
    item without views is an empty cell marked "(no asset)"."""
    from PIL import Image

    from text3d.data.toys4k import prompt_id
    from text3d.render.preview import contact_sheet
    from text3d.store.atomic import write_png
    from text3d.store.folders import RunFolder

    chosen = prompts[:count]
    columns = min(columns, len(chosen))  # every band full: a prompt's assets one above the other
    images, labels = [], []
    for start in range(0, len(chosen), columns):
        band = list(enumerate(chosen))[start:start + columns]
        for row, tag in rows:
            run = RunFolder(out / "runs" / row)
            for index, prompt in band:
                views = run.item(prompt_id(index, prompt)).view_paths("canonical4")
                if len(views) > SHEET_VIEW:
                    images.append(np.asarray(Image.open(views[SHEET_VIEW]).convert("RGB")))
                    labels.append(f"{tag}: {prompt}")
                else:  # the item failed (e.g. a triplane without surface): an empty cell that says so
                    images.append(np.full((128, 128, 3), 255, np.uint8))
                    labels.append(f"{tag}: {prompt} (no asset)")
    return write_png(path, contact_sheet(images, labels, columns=columns, cell=128)) if images else None


def write_prd_study(out: Path, config: Any, seeds: dict[str, Any], rows: dict[str, dict[str, Any]],
                    students: dict[str, dict[str, Any]], prompts: list[str]) -> dict[str, Any]:
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
    sheet = contact_sheet_figure(out, prompts, out / "contact_sheet.png")
    # every student on the same prompts, under the multi-step generator: the ablations at a glance
    variants = [v for v in students if rows.get(v, {}).get("assets")]
    students_sheet = contact_sheet_figure(out, prompts, out / STUDENTS_SHEET, rows=(("embedded", "multi-step"),
                                          *((v, v) for v in variants)), count=6) if len(variants) > 1 else None
    markdown = ["# TriplaneTurbo study", ""] + [n + "\n" for n in notes] + [t.markdown() for t in tables]
    markdown += [f"![multi-step generator (rows 1, 3) and embedded-turbo (rows 2, 4)]({sheet.name})"] if sheet else []
    markdown += ([f"![the multi-step generator (row 1) and each student (rows 2–): {', '.join(variants)}]"
                  f"({STUDENTS_SHEET})"] if students_sheet else [])
    write_text(out / "study.md", "\n".join(markdown))
    figures = [f for f in (sheet, students_sheet) if f]
    write_text(out / "report.html", html_page("TriplaneTurbo study", [f"<p>{n}</p>" for n in notes]
                                              + [t.html() for t in tables]
                                              + ([plots_html(figures)] if figures else [])))
    return document
