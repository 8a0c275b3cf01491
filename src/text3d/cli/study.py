"""``text3d study …``: the measurement studies around the pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import typer

study_app = typer.Typer(help="Studies: generator quality against the procedural ground truth.", no_args_is_help=True)


@study_app.command("generator")
def generator_study(
    out: Path = typer.Option(..., "--out", "-o", help="Folder for both run folders, evaluations, comparison.json."),
    n: int = typer.Option(200, "--n", help="Held-out instances (each gives a prompt and a paraphrase)."),
    seed: int = typer.Option(1_000_000, "--seed", help="Held-out base seed (≥ 1,000,000)."),
    backend: str = typer.Option("embedded", "--backend", help="Backend compared with procedural."),
    augment: str = typer.Option("embedded", "--augment", help="Augmenter used for both backends."),
    resolution: int = typer.Option(256, "--resolution", "-r", help="View size for the evaluation renders."),
    candidates: int = typer.Option(None, "--candidates",
                                   help="Best-of-K of the tested backend (its default when omitted)."),
) -> None:
    """Compare a backend with the procedural assets of the same prompts (R@1, CLIP, category, color)."""
    from text3d.runs.quality import compare_backends

    figures = compare_backends(out, n, seed, backend, augment, resolution, candidates)
    typer.echo(json.dumps(figures, indent=2, sort_keys=True, default=str))


def register(app: typer.Typer) -> None:
    app.add_typer(study_app, name="study")
