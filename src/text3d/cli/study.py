"""``text3d study …``: the measurement studies around the pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from text3d.cli._options import (
    check_llm,
    check_registered,
    comma_list,
    command_group,
    executor_option,
    output_folder,
    wait_option,
)
from text3d.errors import InputError
from text3d.limits import MAX_CANDIDATES, MAX_ITEMS, MAX_RESOLUTION, MAX_SEED, MIN_RESOLUTION
from text3d.store.outputs import check_job_output

study_app = command_group(help="Studies: generator quality against the procedural ground truth. Choose rules, "
                          "thresholds and K on training or development seeds only; report figures from the test "
                          "range.", no_args_is_help=True)


@study_app.command("generator")
def generator_study(
    out: Path = typer.Option(..., "--out", "-o", help="Folder for both run folders, evaluations, comparison.json."),
    n: int = typer.Option(200, "--n", min=2, max=MAX_ITEMS,
                          help="Held-out instances (each gives a prompt and a paraphrase)."),
    seed: int = typer.Option(1_000_000, "--seed", min=1_000_000, max=MAX_SEED,
                             help="Held-out base seed: [1,000,000, 1,900,000) development (choose settings "
                                  "here), [1,900,000, 2,000,000) test (report these figures; test word list)."),
    backend: str = typer.Option("embedded", "--backend", help="Backend compared with procedural."),
    augment: str = typer.Option("embedded", "--augment", help="Augmenter used for both backends."),
    resolution: int = typer.Option(256, "--resolution", "-r", min=MIN_RESOLUTION, max=MAX_RESOLUTION,
                                   help="View size for the evaluation renders."),
    candidates: int = typer.Option(None, "--candidates", min=1, max=MAX_CANDIDATES,
                                   help="Best-of-K of the tested backend (its default when omitted; choose K on "
                                        "development seeds)."),
    wait: bool = wait_option(),
    executor: str = executor_option(),
) -> None:
    """Compare a backend with the procedural assets of the same prompts (R@1, CLIP, category, color).

    Prints which range the seeds lie in (also ``seeds`` in the JSON): settings are chosen on
    development seeds, the figures to report come from the test range."""
    # studies.generator imports the generators and eval (torch): not on the cold path of `text3d --help`
    from text3d.executors import check_executor
    from text3d.generators.base import backend_options, generators
    from text3d.studies.generator import compare_backends, study_seeds

    check_executor(executor)
    check_registered(generators, backend, "--backend")  # before any folder or asset is made
    if backend == "procedural":
        raise InputError("--backend procedural: the study compares a backend with the procedural assets; "
                         "choose another backend")
    backend_options(backend, candidates=candidates)  # a backend without best-of-K refuses --candidates
    check_llm(augment, "--augment")
    check_job_output(out, (backend, "procedural", "eval-*", "comparison.json"), "a study")
    seeds = study_seeds(n, seed)["line"]  # refuses a seed set that spans the development and test ranges
    with output_folder(out, wait):
        typer.echo(seeds, err=True)  # after the checks, so a refusal stays one line
        from text3d.executors import using_executor

        with using_executor(executor) as running:  # one cluster for both backends' batches and evaluations
            figures = compare_backends(out, n, seed, backend, augment, resolution, candidates, executor=running)
    typer.echo(json.dumps(figures, indent=2, sort_keys=True, default=str))


@study_app.command("augment")
def augment_study(
    llms: str = typer.Option(..., "--llms", help="Comma-separated --llm specs, one Table I row each "
                                                 "(e.g. none,embedded,llamacpp:smollm2:135m)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for run folders, evaluations, tables, figures."),
    n: int = typer.Option(8, "--n", min=2, max=MAX_ITEMS, help="Prompts (toyworld: held-out instances)."),
    backend: str = typer.Option("embedded", "--backend", help="Generator backend of every row."),
    seeds: list[int] = typer.Option([0], "--seeds", min=0, max=MAX_SEED,
                                    help="Generator seed; repeat it for mean ± std over seeds."),
    dataset: str = typer.Option("toyworld", "--dataset", help="toyworld (held-out instances, reference assets), "
                                                              "toys4k:DIR (a `text3d data toys4k` folder: its short "
                                                              "prompts, its objects as the reference) or "
                                                              "prompts:FILE (no reference: CLIP only)."),
    seed: int = typer.Option(1_000_000, "--seed", min=1_000_000, max=MAX_SEED,
                             help="Held-out base seed of toyworld: [1,000,000, 1,900,000) development, "
                                  "[1,900,000, 2,000,000) test (report these figures)."),
    resolution: int = typer.Option(128, "--resolution", "-r", min=MIN_RESOLUTION, max=MAX_RESOLUTION,
                                   help="View size of the generated and reference renders."),
    candidates: int = typer.Option(None, "--candidates", min=1, max=MAX_CANDIDATES,
                                   help="Best-of-K of the backend (its default when omitted)."),
    wait: bool = wait_option(),
    executor: str = executor_option(),
) -> None:
    """The LLM prompt-augmentation study (Kim et al., Balancing Fidelity and Efficiency…): Table I
    with intent kept, the cost table, correlations with bootstrap CIs, Figs. 2–4, report.html."""
    from text3d.studies.augment import STUDY_FILES, StudyConfig, check_study, parse_llms, run_study

    config = StudyConfig(llms=parse_llms(llms), n=n, backend=backend, seeds=tuple(dict.fromkeys(seeds)),
                         dataset=dataset, heldout_seed=seed, resolution=resolution, candidates=candidates)
    from text3d.executors import check_executor

    data = check_study(config)  # every refusal before any output
    check_executor(executor)
    check_job_output(out, STUDY_FILES, "a study")
    with output_folder(out, wait):
        if data.seeds:
            typer.echo(data.seeds["line"], err=True)
        from text3d.executors import using_executor

        with using_executor(executor) as running:  # one cluster for every row's batch and evaluation
            run_study(out, config, executor=running)
    typer.echo((out / "study.md").read_text())


@study_app.command("prd")
def prd_study(
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the students, runs, evaluations and tables."),
    n: int = typer.Option(50, "--n", min=2, max=MAX_ITEMS, help="Held-out prompts every row generates."),
    seed: int = typer.Option(1_900_000, "--seed", min=1_000_000, max=MAX_SEED,
                             help="Held-out base seed: [1,000,000, 1,900,000) development (choose settings "
                                  "here), [1,900,000, 2,000,000) test (report these figures)."),
    steps: int = typer.Option(None, "--steps", min=1, max=10_000_000,
                              help="Optimizer steps of every student (default: `text3d train turbo`'s)."),
    variants: str = typer.Option("all", "--variants",
                                 help="Students to distill and compare, comma-separated, or all: peta (text3d's "
                                      "default student: K = 1, mesh rendering, RGB supervision; always included), "
                                      "k2, k4 (K = 2, 4), lora, full, volume, both (volume + mesh), normals (RGB + "
                                      "normals/depth), generator."),
    teacher: str = typer.Option(None, "--teacher", help="Embedded multi-view teacher folder (default: shipped)."),
    resolution: int = typer.Option(128, "--resolution", "-r", min=MIN_RESOLUTION, max=MAX_RESOLUTION,
                                   help="View size of the evaluation renders."),
    wait: bool = wait_option(),
) -> None:
    """TriplaneTurbo's Tables 1–4 and the dual-rendering ablation: one distilled student per variant
    (resumable), each against the multi-step embedded generator and the procedural assets."""
    from text3d.studies.prd import STUDY_FILES, PRDStudyConfig, check_prd_study, check_variants, run_prd_study

    config = PRDStudyConfig(n=n, seed=seed, steps=steps, teacher=teacher, resolution=resolution,
                            variants=check_variants(comma_list(variants, "--variants")))
    line = check_prd_study(config)  # seeds in one range, a teacher that exists: before any output
    check_job_output(out, STUDY_FILES, "a study")
    with output_folder(out, wait):
        typer.echo(line, err=True)
        run_prd_study(out, config)
    typer.echo((out / "study.md").read_text())


def register(app: typer.Typer) -> None:
    app.add_typer(study_app, name="study")
