"""``text3d bias localize``: word-level bias localization (Multimodal Semantic Bias Mitigation, §1–2)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from text3d.cli._options import seed_option, wait_option, wait_seconds
from text3d.errors import InputError
from text3d.limits import MAX_CANDIDATES
from text3d.store.locks import exclusive, folder_lock
from text3d.store.outputs import check_job_output

LOCALIZE_FILES = ("settings.json", "rows.jsonl", "localization.json", "localization.csv", "heatmaps", "index.html")
"""What a localization folder holds: a rerun with the same settings resumes it."""

bias_app = typer.Typer(help="Word-level semantic bias of a generator, measured with an evaluator.",
                       no_args_is_help=True)


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
    from text3d.eval.evaluators import create_evaluator
    from text3d.generators.base import create_generator
    from text3d.prompts.batch import read_prompts

    prompt_list = read_prompts(prompts)
    check_job_output(out, LOCALIZE_FILES, "a localization run")
    scorer = create_evaluator(evaluator, model=evaluator_model, device=device)
    chosen = dimension or ("overall" if "overall" in scorer.dimensions else scorer.dimensions[0])
    if chosen not in scorer.dimensions:
        raise InputError(f"--dimension {chosen}: evaluator {evaluator!r} scores {', '.join(scorer.dimensions)}")
    settings = LocalizeSettings(backend=backend, evaluator=evaluator, samples=samples, dimension=chosen, seed=seed,
                                model=model, evaluator_model=evaluator_model, candidates=candidates)
    generator = create_generator(backend, model=model, device=device, candidates=candidates)
    with exclusive(folder_lock(out), str(out), wait_seconds(wait)):
        table = localize(prompt_list, generator, scorer, settings, out)
    summary = {"prompts": len(table["prompts"]), "q_g": table["q_g"], "out": str(out),
               "w_h": {r["prompt"]: r["w_h"] for r in table["prompts"][:5]}}
    typer.echo(json.dumps(summary, indent=2))


def register(app: typer.Typer) -> None:
    app.add_typer(bias_app, name="bias")
