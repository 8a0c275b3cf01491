"""``text3d bias localize`` (word-level bias localization) and ``text3d bias augment`` (semantic and
visual augmentation), after "Multimodal Semantic Bias Mitigation for Diverse Text-To-3D Generation"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from text3d.cli._options import (
    check_llm,
    check_registered,
    comma_list,
    command_group,
    finite_option,
    output_folder,
    seed_option,
    wait_option,
)
from text3d.errors import InputError
from text3d.limits import MAX_CANDIDATES, check_seed
from text3d.store.outputs import check_job_output

LOCALIZE_FILES = ("settings.json", "rows.jsonl", "localization.json", "localization.csv", "heatmaps", "index.html")
"""What a localization folder holds: a rerun with the same settings resumes it."""

bias_app = command_group(help="Word-level semantic bias of a generator, measured with an evaluator.",
                       no_args_is_help=True)


def chosen_dimension(dimension: str | None, scorer: Any, evaluator: str) -> str:
    """``--dimension``, or the evaluator's overall score (its only one when it has one); one that the
    evaluator does not score is refused naming the option."""
    chosen = dimension or ("overall" if "overall" in scorer.dimensions else scorer.dimensions[0])
    if chosen not in scorer.dimensions:
        raise InputError(f"--dimension {chosen}: evaluator {evaluator!r} scores {', '.join(scorer.dimensions)}")
    return chosen


@bias_app.command("localize")
def localize_command(
    prompts: Path = typer.Option(..., "--prompts", help="File with one prompt per line (or JSONL with 'prompt')."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for localization.json/.csv, heatmaps/, index.html."),
    backend: str = typer.Option("embedded", "--backend", "-b", help="Generator backend (text3d info lists them)."),
    evaluator: str = typer.Option("embedded-hyperscore", "--evaluator", "-e",
                                  help="Evaluator: embedded-hyperscore or clip."),
    samples: int = typer.Option(4, "--samples", "-D", min=1, max=256, help="Assets generated per prompt (D)."),
    dimension: str = typer.Option(None, "--dimension",
                                  help="Score differentiated (default: overall, or the evaluator's only one)."),
    model: str = typer.Option(None, "--model", help="Generator weights (default: the backend's)."),
    evaluator_model: str = typer.Option(None, "--evaluator-model",
                                        help="Evaluator weights: a folder, or clip-vit-large-patch14 for --evaluator "
                                             "clip (default: the embedded model)."),
    candidates: int = typer.Option(None, "--candidates", min=1, max=MAX_CANDIDATES,
                                   help="Best-of-K of the embedded backend (default 6; 1 = off, ~6× faster)."),
    seed: int = seed_option(0, "Seed of the first asset of each prompt (the others count up)."),
    device: str = typer.Option(None, "--device", help="cpu, cuda, mps (default: best available)."),
    wait: bool = wait_option(),
) -> None:
    """Generate D assets per prompt, score them, and attribute the score to the prompt's words."""
    from text3d.bias.localize import LocalizeSettings, localize
    from text3d.data.prompt_files import read_prompts
    from text3d.eval.evaluators import create_evaluator
    from text3d.eval.evaluators.base import evaluators
    from text3d.generators.base import create_generator, generators

    check_registered(generators, backend, "--backend")  # before the prompts are read or any model loads
    check_registered(evaluators, evaluator, "--evaluator")
    prompt_list = read_prompts(prompts)  # with the limits every generation command applies
    check_seed("--seed", seed, samples)  # each prompt's assets take seeds seed … seed + D − 1
    check_job_output(out, LOCALIZE_FILES, "a localization run", state=("settings.json", ("backend", "evaluator")))
    scorer = create_evaluator(evaluator, model=evaluator_model, device=device)
    chosen = chosen_dimension(dimension, scorer, evaluator)
    settings = LocalizeSettings(backend=backend, evaluator=evaluator, samples=samples, dimension=chosen, seed=seed,
                                model=model, evaluator_model=evaluator_model, candidates=candidates,
                                evaluator_sha256=evaluators.get(evaluator).weights_sha256(evaluator_model))
    generator = create_generator(backend, model=model, device=device, candidates=candidates)
    with output_folder(out, wait):
        table = localize(prompt_list, generator, scorer, settings, out)
    summary = {"prompts": len(table["prompts"]), "q_g": table["q_g"], "out": str(out),
               "w_h": {r["prompt"]: r["w_h"] for r in table["prompts"][:5]}}
    typer.echo(json.dumps(summary, indent=2))


AUGMENT_FILES = ("run.yaml", "manifest.jsonl", "manifest.jsonl.lock", "contexts.jsonl", "items", "pairs.jsonl",
                 "summary.json", "review.json", "review.csv")
"""What an augmentation folder holds: a rerun with the same settings resumes it."""


@bias_app.command("augment")
def augment_command(
    table: Path = typer.Option(..., "--table", help="Folder of a text3d bias localize run (localization.json)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder: contexts, assets, pairs.jsonl, summary.json."),
    llm: str = typer.Option("embedded", "--llm", help="Augmenter that writes the contexts: embedded, "
                                                      "llamacpp:smollm2:135m, openai:MODEL, hf:REPO, ollama:TAG."),
    k: int = typer.Option(4, "--k", "-K", min=1, max=64, help="Context prompts kept per prompt (K)."),
    generator: str = typer.Option("procedural", "--generator", "-g", help="External generator of the contexts' "
                                                                          "assets (text3d info lists them)."),
    evaluator: str = typer.Option("embedded-hyperscore", "--evaluator", "-e",
                                  help="Ranking model: embedded-hyperscore or clip."),
    review: Path = typer.Option(None, "--review", help="Review file (.json or .csv): written on the first run; "
                                                       "accept/reject decisions in it are read on the next."),
    dimension: str = typer.Option(None, "--dimension",
                                  help="Score compared (default: overall, or the evaluator's only one)."),
    evaluator_model: str = typer.Option(None, "--evaluator-model", help="Evaluator weights (default: embedded)."),
    generator_model: str = typer.Option(None, "--generator-model", help="External generator's weights."),
    retries: int = typer.Option(3, "--retries", min=0, max=16, help="Retries of a context that fails a filter."),
    margin: float = finite_option(0.0, "--margin", 0.0, 100.0,
                                  "A new asset wins when its score beats the original's by more than this."),
    seed: int = seed_option(0, "Seed of the contexts' sampling and of the external generator."),
    timeout: float = finite_option(None, "--timeout", 0.0, 3600.0,
                                   "Seconds one context may take with a server LLM, over all its tries.",
                                   low_open=True),
    device: str = typer.Option(None, "--device", help="cpu, cuda, mps (default: best available)."),
    wait: bool = wait_option(),
) -> None:
    """Write K context prompts per prompt that keep w_h and w_l, make and rank their assets, store the pairs."""
    from text3d.bias.augment import TABLE, read_table, run_augment, table_digest
    from text3d.bias.context import CONTEXT_PROMPT_VERSION, ContextSettings, ContextWriter, create_backend
    from text3d.bias.filters import FilterBounds
    from text3d.bias.review import read_review
    from text3d.bias.visual import Source
    from text3d.eval.evaluators import create_evaluator
    from text3d.eval.evaluators.base import evaluators
    from text3d.generators.base import create_generator, generators
    from text3d.prompts.augment import server_options
    from text3d.store.outputs import check_not_input

    check_registered(generators, generator, "--generator")  # before any file is read or model loaded
    check_registered(evaluators, evaluator, "--evaluator")
    check_llm(llm, "--llm")
    if table.is_file() and table.name == TABLE:  # the table file itself: its folder is the localization
        table = table.parent
    rows, localized = read_table(table)
    check_not_input(out, [table])
    check_job_output(out, AUGMENT_FILES, "an augmentation run")
    if review is not None:
        check_not_input(review, [table / "localization.json"], "--review")
        read_review(review)  # a malformed review file is refused before any model loads
    scorer = create_evaluator(evaluator, model=evaluator_model, device=device)
    chosen = chosen_dimension(dimension, scorer, evaluator)
    context_settings = ContextSettings(k=k, max_retries=retries, seed=seed)
    bounds = FilterBounds()
    original_source = Source(localized["backend"], localized.get("model"), int(localized.get("seed", 0)),
                             localized.get("steps"), localized.get("cfg"))
    external_source = Source(generator, generator_model, seed)
    config = {"task": "bias-augment", "table_sha256": table_digest(rows), "llm": llm, "k": k, "retries": retries,
              "temperature": context_settings.temperature, "context_prompt_version": CONTEXT_PROMPT_VERSION,
              "bounds": vars(bounds).copy(), "generator": generator, "generator_model": generator_model,
              "original": {**vars(original_source), "candidates": localized.get("candidates")},
              "evaluator": evaluator, "evaluator_model": evaluator_model,
              "evaluator_sha256": evaluators.get(evaluator).weights_sha256(evaluator_model), "dimension": chosen,
              "margin": margin, "seed": seed}

    def make_writer() -> ContextWriter:
        return ContextWriter(create_backend(llm, **server_options(llm, timeout)), context_settings, bounds)

    def make_original():
        return create_generator(original_source.backend, model=original_source.model, device=device,
                                candidates=localized.get("candidates"))

    # A user-named model is loaded now: a wrong folder is refused before any context or asset is made.
    named_external = create_generator(generator, model=generator_model, device=device) if generator_model else None

    def make_external():
        return named_external or create_generator(generator, model=generator_model, device=device)

    with output_folder(out, wait):
        summary = run_augment(rows, out, config, make_writer, make_original, original_source, make_external,
                              external_source, scorer, chosen, k, margin, review)
    typer.echo(json.dumps({**summary, "out": str(out)}, indent=2))
    if summary["items"]["failed"] or summary["failed_prompts"]:  # as generate --prompts: finished, not clean
        typer.echo(f"bias augment: failed: {summary['items']['failed']} item(s), the contexts of "
                   f"{len(summary['failed_prompts'])} prompt(s) (the warnings above and manifest.jsonl say why)",
                   err=True)
        raise typer.Exit(1)


STUDY_FILES = ("study.json", "localize", "augment-*", "model-*", "replay-cache", "eval", "tables.json", "tables.md")
"""What a bias study folder holds: a rerun with the same settings resumes it."""


@bias_app.command("study")
def study_command(
    out: Path = typer.Option(..., "--out", "-o", help="Study folder: localize/, augment-*/, model-*/, eval/, tables."),
    n: int = typer.Option(20, "--n", min=1, max=100_000, help="Held-out toyworld prompts per kind."),
    split: str = typer.Option("test", "--split", help="Seeds of the held-out prompts: test (reported figures) or "
                                                      "dev (for choosing settings)."),
    seed: int = seed_option(0, "Seed of generation, contexts and fine-tuning."),
    localize_n: int = typer.Option(40, "--localize-n", min=1, max=100_000,
                                   help="Development prompts localized and augmented (the fine-tuning side)."),
    samples: int = typer.Option(2, "--samples", "-D", min=1, max=256, help="Assets per localized prompt (D)."),
    k: int = typer.Option(2, "--k", "-K", min=1, max=64, help="Context prompts kept per prompt (K)."),
    variants: str = typer.Option("random,w_h,w_l,full", "--variants",
                                 help="Word choices: random (no gradient guidance), w_h, w_l, full."),
    evaluator: str = typer.Option("clip", "--evaluator", "-e", help="Evaluator: clip or embedded-hyperscore."),
    evaluator_model: str = typer.Option(None, "--evaluator-model", help="Evaluator weights (default: embedded)."),
    llm: str = typer.Option("embedded", "--llm", help="Augmenter that writes the contexts."),
    external: str = typer.Option("procedural", "--generator", "-g", help="External generator of the contexts' assets."),
    candidates: int = typer.Option(1, "--candidates", min=1, max=MAX_CANDIDATES,
                                   help="Best-of-K of the embedded generator (1: the model alone)."),
    finetune_steps: int = typer.Option(300, "--finetune-steps", min=1, max=1_000_000, help="Fine-tuning steps."),
    replay: float = finite_option(0.5, "--replay", 0.0, 1.0,
                                  "Share of each fine-tuning batch replayed from toyworld training items."),
    base: str = typer.Option(None, "--base", help="Base generator folder (default: the shipped one)."),
    models: list[str] = typer.Option([], "--model", help="Other generator folders evaluated beside (repeatable)."),
    mate3d: Path = typer.Option(None, "--mate3d", help="MATE-3D prompt list (CSV or JSON with categories)."),
    t3bench: Path = typer.Option(None, "--t3bench", help="T³Bench folder or track file (prompt_*.txt)."),
    device: str = typer.Option(None, "--device", help="cpu, cuda, mps (default: best available)."),
    wait: bool = wait_option(),
) -> None:
    """Before/after study: localize → augment (per word choice) → fine-tune → evaluate by prompt kind."""
    from text3d.bias.readers import read_mate3d, read_t3bench
    from text3d.bias.study import Study, StudySettings
    from text3d.eval.evaluators import create_evaluator
    from text3d.eval.evaluators.base import evaluators
    from text3d.generators.base import generators
    from text3d.train.generator_finetune import FinetuneConfig, finetune_generator, load_base

    check_registered(evaluators, evaluator, "--evaluator")  # before any file is read or model loaded
    check_registered(generators, external, "--generator")
    check_llm(llm, "--llm")
    benchmarks = {}
    if mate3d is not None:
        benchmarks["mate3d"] = read_mate3d(mate3d)
    if t3bench is not None:
        benchmarks["t3bench"] = read_t3bench(t3bench)
    extra = {}
    if base is not None:
        load_base(base, "cpu", "--base")  # a folder that is not a generator is refused before any work
    for model in models:
        load_base(model, "cpu")
        extra[Path(model).name] = str(model)
    settings = StudySettings(n=n, split=split, seed=seed, localize_n=localize_n, samples=samples, k=k,
                             candidates=candidates, evaluator=evaluator, evaluator_model=evaluator_model,
                             evaluator_sha256=evaluators.get(evaluator).weights_sha256(evaluator_model), llm=llm,
                             external=external, variants=comma_list(variants, "--variants"),
                             finetune={"steps": finetune_steps, "replay": replay, "seed": seed}, base=base,
                             benchmarks={name: str(path) for name, path in (("mate3d", mate3d), ("t3bench", t3bench))
                                         if path})
    check_job_output(out, STUDY_FILES, "a bias study")
    scorer = create_evaluator(evaluator, model=evaluator_model, device=device)

    def finetune(pairs: Path, folder: Path, options: dict, start: str | None) -> None:
        finetune_generator(pairs, folder, FinetuneConfig(**options, device=device), base=start,
                           cache=folder.parent / "replay-cache")  # shared by the variants

    with output_folder(out, wait):
        record = Study(out, settings, scorer, finetune, benchmarks, device=device, extra_models=extra).run()
    typer.echo((out / "tables.md").read_text())
    typer.echo(json.dumps({"out": str(out), "checks": record["checks"], "seconds": record["seconds"],
                           "seconds_this_run": record["seconds_this_run"]},
                          indent=2))


def register(app: typer.Typer) -> None:
    app.add_typer(bias_app, name="bias")
