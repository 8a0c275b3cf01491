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
    point_steps: int = typer.Option(1000, "--point-steps", help="Point-encoder optimizer steps."),
    batch: int = typer.Option(128, "--batch", help="Image-encoder batch size."),
    device: str = typer.Option(None, "--device", help="cpu, cuda, mps (default: best available)."),
    workers: int = typer.Option(0, "--workers", help="Rendering processes (0 = one per core)."),
    evaluate: int = typer.Option(2400, "--evaluate", help="Held-out instances for the model cards (0 = skip)."),
    models: str = typer.Option("image,point", "--models", help="Which to train; the others are read from --out."),
) -> None:
    """Train the embedded image encoder (CLIP-like) and point encoder; write weights + cards."""
    from text3d.train.encoders import EncoderTrainConfig
    from text3d.train.run_encoders import train_encoders

    config = EncoderTrainConfig(seed=seed, steps=steps, items=items, point_steps=point_steps, batch=batch,
                                device=device, workers=workers)
    figures = train_encoders(out, config, evaluate_n=evaluate,
                             models=tuple(m.strip() for m in models.split(",") if m.strip()))
    typer.echo(json.dumps(figures, indent=2, sort_keys=True))


@train_app.command("generator")
def generator_command(
    out: Path = typer.Option(..., "--out", "-o", help="Folder for generator/, the loss log and the data cache."),
    seed: int = typer.Option(0, "--seed", help="Seed of initialization and batch sampling."),
    steps: int = typer.Option(None, "--steps", help="Flow DiT optimizer steps (default: the config's)."),
    vae_steps: int = typer.Option(None, "--vae-steps", help="Block VAE optimizer steps."),
    items: int = typer.Option(None, "--items", help="Training items (toyworld seeds from 0)."),
    batch: int = typer.Option(None, "--batch", help="DiT batch size."),
    device: str = typer.Option(None, "--device", help="cpu, cuda, mps (default: best available)."),
    workers: int = typer.Option(0, "--workers", help="Rendering processes (0 = one per core)."),
    check: int = typer.Option(90, "--check", help="Held-out prompts generated for the model card (0 = skip)."),
) -> None:
    """Train the embedded generator (block VAE + rectified-flow DiT); write weights + card."""
    from text3d.train.generator import GeneratorTrainConfig
    from text3d.train.run_generator import train_generator

    overrides = {k: v for k, v in {"steps": steps, "vae_steps": vae_steps, "items": items, "batch": batch}.items()
                 if v is not None}
    config = GeneratorTrainConfig(seed=seed, device=device, workers=workers, **overrides)
    figures = train_generator(out, config, check_n=check)
    typer.echo(json.dumps(figures, indent=2, sort_keys=True))


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
