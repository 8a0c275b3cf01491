"""The TriplaneTurbo study: Tables 1–4 and the dual-rendering ablation of Progressive Rendering
Distillation (Ma et al., 2025), on held-out toyworld prompts judged by the embedded encoders.

Each *variant* is one student distilled by :func:`text3d.train.prd.train_prd` into
``out/students/<variant>`` (resumable: the trainer's checkpoints), with the study's shared settings
(``--steps``, seed, teacher) and the variant's own (:data:`VARIANTS`). Every row — a student, the
multi-step embedded generator, the procedural ground truth — is generated on the same ``n``
prompts into ``out/runs/<row>`` (resuming) and evaluated reference-free into ``out/evals/<row>``:
CLIP score (×100, asset views against the user's prompt), R@1 over the distinct prompts, and the
median end-to-end latency per asset (augment + generate + GLB export, from each item's
``timings_s``; rendering for the evaluation excluded). Tables are written in the paper's layouts with
its published rows beside (:data:`text3d.studies.prd_report.PUBLISHED`): ``study.md``, ``study.json``, ``report.html``.

Table 2 has two readings: students *trained* with K = 1, 2, 4 (the paper's), and the K = 4
student *sampled* with 1, 2, 4 of its steps (measured when ``k4`` is among the variants). text3d's
default student is K = 1: within the 90 CPU-minutes of training, one supervised step per example
sees four times the prompts of K = 4, and more prompts is what the held-out figures gained from.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from text3d.errors import InputError
from text3d.studies.prd_report import ABLATIONS, MAIN, MAIN_K, STUDENTS_SHEET, row_of

log = logging.getLogger(__name__)

def study_variants(defaults: Any = None) -> dict[str, dict[str, Any]]:
    """Students of the study: the default one (``defaults``: the trainer's) and each ablation whose
    settings differ from them."""
    return {MAIN: {}, **{name: settings for name, settings in ABLATIONS.items() if row_of(name, defaults) != MAIN}}


VARIANTS = study_variants()

STUDY_FILES = ("students", "runs", "evals", "study.md", "study.json", "report.html", "contact_sheet.png",
               STUDENTS_SHEET)


@dataclass(frozen=True)
class PRDStudyConfig:
    """One study: the prompts, the students' shared training settings and the rows to run."""

    n: int = 50
    seed: int = 1_900_000
    steps: int | None = None
    """Optimizer steps of every student (None: the trainer's default)."""
    variants: tuple[str, ...] = tuple(VARIANTS)
    teacher: str | None = None
    resolution: int = 128
    train_overrides: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Further :class:`~text3d.train.prd_config.PRDTrainConfig` settings for every student (tests: tiny ones)."""


def check_variants(names: tuple[str, ...]) -> tuple[str, ...]:
    """The variants, checked (``all``: every one); the default student is always included (every table
    compares with it)."""
    if not names:
        raise InputError(f"--variants: name at least one variant, or all (known: {', '.join(VARIANTS)})")
    unknown = [v for v in names if v != "all" and v not in VARIANTS]
    if unknown:
        raise InputError(f"--variants {', '.join(unknown)}: unknown (known: all, {', '.join(VARIANTS)})")
    if "all" in names:
        names = tuple(VARIANTS)
    return tuple(dict.fromkeys((MAIN, *names)))


def check_prd_study(config: PRDStudyConfig) -> str:
    """Refuse a study that cannot run (variants, seeds, a missing teacher) before any output; returns
    the line naming the seeds' range."""
    from text3d.errors import ModelNotAvailableError
    from text3d.nn.checkpoint import resolve_model_folder
    from text3d.nn.teachers.embedded import MODEL_NAME as TEACHER
    from text3d.studies.generator import study_seeds

    check_variants(config.variants)
    line = study_seeds(config.n, config.seed)["line"]
    try:
        resolve_model_folder(config.teacher, TEACHER)
    except ModelNotAvailableError:
        where = config.teacher or "the shipped one"
        raise ModelNotAvailableError(f"--teacher {where}: no trained multi-view teacher there; train one with "
                                     f"`text3d train mvdiffusion --out DIR` and pass --teacher DIR/{TEACHER}") from None
    return line


def student_settings(config: PRDStudyConfig, variant: str):
    """The PRD settings of ``variant``'s student. A student with K ≠ the default's trains for
    steps · K_default / K optimizer steps: each step supervises K renders, so every student of Table 2
    gets about the same CPU time (the issue's 90 CPU-minutes)."""
    from text3d.train.prd_config import PRDTrainConfig

    shared = {**config.train_overrides, "teacher": config.teacher}
    if config.steps is not None:
        shared["steps"] = config.steps
    settings = dataclasses.replace(PRDTrainConfig(), **{**shared, **VARIANTS[variant]})
    if settings.denoise_steps != MAIN_K:
        settings = dataclasses.replace(settings, steps=max(1, round(settings.steps * MAIN_K / settings.denoise_steps)))
    return settings


def check_student(out: Path, variant: str, settings) -> None:
    """Refuse in one line a finished ``variant`` student in the study folder ``out`` trained with other
    model settings than ``settings`` (e.g. the study rerun with another ``--steps``); none passes."""
    from text3d.train.prd import finished_student

    finished_student(out / "students" / variant, settings, f"--out {out}: its {variant} student folder")


def end_to_end_latency(run_dir: Path) -> float | None:
    """Median over items of augment + align + generate + export seconds (meta.json ``timings_s``)."""
    totals = []
    for meta in sorted(run_dir.glob("items/*/meta.json")):
        timings = json.loads(meta.read_text(encoding="utf-8")).get("timings_s") or {}
        totals.append(sum(float(timings.get(k, 0.0)) for k in ("augment", "align", "generate", "export")))
    return statistics.median(totals) if totals else None


def row_specs(out: Path, variants: tuple[str, ...]) -> dict[str, tuple[str, str | None, int | None]]:
    """Every row of the study: (backend, model folder, sampling steps) by row name."""
    from text3d.generators.backends.embedded_turbo import MODEL_NAME

    specs: dict[str, tuple[str, str | None, int | None]] = {
        v: ("embedded-turbo", str(out / "students" / v / MODEL_NAME), None) for v in variants}
    if "k4" in variants:  # Table 2, sampled: the K = 4 student with fewer of its steps
        specs.update({f"k4@{k}": ("embedded-turbo", specs["k4"][1], k) for k in (1, 2)})
    specs.update({b: (b, None, None) for b in ("embedded", "procedural")})
    return specs


def _run_options(backend: str, model: str | None, steps: int | None, resolution: int) -> dict[str, Any]:
    """The batch settings of one row's run (what its run folder records)."""
    return {"augment": "none", "backend": backend, "model": model, "steps": steps, "views": ("canonical4",),
            "resolution": resolution}


def check_rows(out: Path, specs: dict[str, tuple[str, str | None, int | None]], prompts: list[str],
               resolution: int) -> None:
    """Refuse in one line, before any work, a row whose earlier run in ``out`` was generated with other
    settings (another --n, --seed or -r); rows not run yet pass. Writes nothing."""
    from text3d.runs.pipeline import batch_config, check_resumable
    from text3d.store.folders import RunFolder

    for name, (backend, model, steps) in specs.items():
        run_dir = out / "runs" / name
        if not RunFolder(run_dir).read_config() or (model is not None and not Path(model).is_dir()):
            continue  # a missing student is trained first; its new weights are another run anyway
        try:
            check_resumable(run_dir, batch_config(prompts, **_run_options(backend, model, steps, resolution)), prompts)
        except InputError as error:
            differ = getattr(error, "differs", ()) or ("prompts",)
            raise InputError(f"--out {out}: its {name} row was generated with other settings "
                             f"({', '.join(differ[:4])} differ: another --n, --seed or -r); give a new --out, "
                             "or the settings it was made with") from None


def measure_row(out: Path, name: str, prompts: list[str], backend: str, model: str | None,
                steps: int | None, resolution: int) -> dict[str, Any]:
    """Generate (resuming) and evaluate one row; its CLIP score, R@1 and latency, and how many of its
    prompts gave an asset (a student's triplane may have no surface: no CLIP score nor R@1 then)."""
    from text3d.eval.protocol import EvalOptions, evaluate_run
    from text3d.eval.report import write_reports
    from text3d.runs.pipeline import generate_batch
    from text3d.store.folders import STATUS_DONE, RunFolder

    run_dir, eval_dir = out / "runs" / name, out / "evals" / name
    counts = generate_batch(prompts, run_dir, **_run_options(backend, model, steps, resolution), gif=False,
                            progress=False)
    assets = sum(row.get("status") == STATUS_DONE for row in RunFolder(run_dir).manifest.rows().values())
    if not assets:
        log.warning("%s: none of the %d prompts gave an asset; no CLIP score nor R@1", name, len(prompts))
        return {"row": name, "backend": backend, "clip": None, "r_at_1": None, "latency_s": None,
                "failed": counts["failed"], "assets": 0, "n": len(prompts)}
    if counts["done"] or not (eval_dir / "report.html").is_file():
        result = evaluate_run(run_dir, eval_dir, options=EvalOptions(resolution=resolution))
        write_reports(result, eval_dir)
    metrics = json.loads((eval_dir / "metrics.json").read_text(encoding="utf-8"))
    return {"row": name, "backend": backend, "clip": metrics.get("clip_user"), "r_at_1": metrics.get("r_at_1"),
            "latency_s": end_to_end_latency(run_dir), "failed": counts["failed"], "assets": assets, "n": len(prompts)}


def run_prd_study(out: str | Path, config: PRDStudyConfig, progress: bool | None = None) -> dict[str, Any]:
    """Train (or resume) every student, measure every row and write the tables; returns study.json."""
    from text3d.studies.generator import quality_prompts, study_seeds
    from text3d.studies.prd_report import write_prd_study
    from text3d.train.prd import train_prd

    out = Path(out)
    check_prd_study(config)
    variants = check_variants(config.variants)
    seeds = study_seeds(config.n, config.seed)
    prompts = [r["prompt"] for r in quality_prompts(config.n, config.seed) if r["variant"] == "prompt"]
    settings = {variant: student_settings(config, variant) for variant in variants}
    for variant in variants:  # before any work: a finished student must have this study's settings
        check_student(out, variant, settings[variant])
    specs = row_specs(out, variants)
    check_rows(out, specs, prompts, config.resolution)
    students = {}
    for variant in variants:  # a finished student is reused as it is
        students[variant] = train_prd(out / "students" / variant, settings[variant], progress=progress)
    rows = {name: measure_row(out, name, prompts, *spec, config.resolution) for name, spec in specs.items()}
    return write_prd_study(out, config, seeds, rows, students, prompts)
