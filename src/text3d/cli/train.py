"""``text3d train encoders`` and ``text3d train generator``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

train_app = typer.Typer(help="Train the embedded models on toyworld.", no_args_is_help=True)


@train_app.command("encoders")
def encoders_command(
    out: Path = typer.Option(..., "--out", "-o", help="Folder for image-encoder/, point-encoder/, the loss log."),
    seed: int = typer.Option(0, "--seed", help="Seed of initialization and batch sampling."),
    steps: int = typer.Option(2000, "--steps", help="Image-encoder optimizer steps."),
    items: int = typer.Option(12600, "--items", help="Training items (toyworld seeds from 0)."),
    point_steps: int = typer.Option(700, "--point-steps", help="Point-encoder optimizer steps."),
    batch: int = typer.Option(128, "--batch", help="Image-encoder batch size."),
    device: str = typer.Option(None, "--device", help="cpu, cuda, mps (default: best available)."),
    workers: int = typer.Option(0, "--workers", help="Rendering processes (0 = one per core)."),
    evaluate: int = typer.Option(1200, "--evaluate", help="Held-out instances for the model cards (0 = skip)."),
) -> None:
    """Train the embedded image encoder (CLIP-like) and point encoder; write weights + cards."""
    from text3d.train.encoders import EncoderTrainConfig
    from text3d.train.run_encoders import train_encoders

    config = EncoderTrainConfig(seed=seed, steps=steps, items=items, point_steps=point_steps, batch=batch,
                                device=device, workers=workers)
    figures = train_encoders(out, config, evaluate_n=evaluate)
    typer.echo(json.dumps(figures, indent=2, sort_keys=True))


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
