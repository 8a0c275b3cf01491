"""``text3d train encoders`` and ``text3d train generator``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from text3d.cli._options import seed_option, wait_option, wait_seconds
from text3d.limits import MAX_ITEMS, MAX_WORKERS

TRAINING_FILES = ("cache", "train_log.jsonl", "summary.json", "*.pt", "image-encoder", "point-encoder",
                  "stage1-vae", "generator")
"""What a training folder holds (data cache, loss log, checkpoints, weights): a rerun resumes it."""
MAX_TRAIN_STEPS = 10_000_000
MAX_BATCH = 65_536

train_app = typer.Typer(help="Train the embedded models on toyworld.", no_args_is_help=True)


@train_app.command("encoders")
def encoders_command(
    out: Path = typer.Option(..., "--out", "-o", help="Folder for image-encoder/, point-encoder/, the loss log."),
    seed: int = seed_option(help="Seed of initialization and batch sampling."),
    steps: int = typer.Option(2000, "--steps", min=1, max=MAX_TRAIN_STEPS, help="Image-encoder optimizer steps."),
    items: int = typer.Option(12600, "--items", min=2, max=MAX_ITEMS, help="Training items (toyworld seeds from 0)."),
    point_steps: int = typer.Option(1000, "--point-steps", min=1, max=MAX_TRAIN_STEPS,
                                    help="Point-encoder optimizer steps."),
    batch: int = typer.Option(128, "--batch", min=2, max=MAX_BATCH, help="Image-encoder batch size."),
    device: str = typer.Option(None, "--device", help="cpu, cuda, mps (default: best available)."),
    workers: int = typer.Option(0, "--workers", min=0, max=MAX_WORKERS, help="Rendering processes (0 = one per core)."),
    evaluate: int = typer.Option(2400, "--evaluate", min=0, max=MAX_ITEMS,
                                 help="Held-out instances for the model cards (0 = skip)."),
    models: str = typer.Option("image,point", "--models", help="Which to train; the others are read from --out."),
    wait: bool = wait_option(),
) -> None:
    """Train the embedded image encoder (CLIP-like) and point encoder; write weights + cards."""
    from text3d.errors import InputError
    from text3d.train.encoders import EncoderTrainConfig
    from text3d.train.run_encoders import train_encoders

    chosen = tuple(m.strip() for m in models.split(",") if m.strip())
    unknown = sorted(set(chosen) - {"image", "point"})
    if unknown or not chosen:
        raise InputError(f"--models {models!r}: use image, point or image,point")
    config = EncoderTrainConfig(seed=seed, steps=steps, items=items, point_steps=point_steps, batch=batch,
                                device=device, workers=workers)
    with _training_folder(out, wait):
        figures = train_encoders(out, config, evaluate_n=evaluate, models=chosen)
    typer.echo(json.dumps(figures, indent=2, sort_keys=True))


@train_app.command("generator")
def generator_command(
    out: Path = typer.Option(..., "--out", "-o", help="Folder for generator/, the loss log and the data cache."),
    seed: int = seed_option(help="Seed of initialization and batch sampling."),
    steps: int = typer.Option(None, "--steps", min=1, max=MAX_TRAIN_STEPS,
                              help="Flow DiT optimizer steps (default: the config's)."),
    vae_steps: int = typer.Option(None, "--vae-steps", min=1, max=MAX_TRAIN_STEPS, help="Block VAE optimizer steps."),
    items: int = typer.Option(None, "--items", min=2, max=MAX_ITEMS, help="Training items (toyworld seeds from 0)."),
    batch: int = typer.Option(None, "--batch", min=2, max=MAX_BATCH, help="DiT batch size."),
    device: str = typer.Option(None, "--device", help="cpu, cuda, mps (default: best available)."),
    workers: int = typer.Option(0, "--workers", min=0, max=MAX_WORKERS, help="Rendering processes (0 = one per core)."),
    check: int = typer.Option(90, "--check", min=0, max=MAX_ITEMS,
                              help="Held-out prompts generated for the model card (0 = skip)."),
    wait: bool = wait_option(),
) -> None:
    """Train the embedded generator (block VAE + rectified-flow DiT); write weights + card."""
    from text3d.train.generator import GeneratorTrainConfig
    from text3d.train.run_generator import train_generator

    overrides = {k: v for k, v in {"steps": steps, "vae_steps": vae_steps, "items": items, "batch": batch}.items()
                 if v is not None}
    config = GeneratorTrainConfig(seed=seed, device=device, workers=workers, **overrides)
    with _training_folder(out, wait):
        figures = train_generator(out, config, check_n=check)
    typer.echo(json.dumps(figures, indent=2, sort_keys=True))


def _training_folder(out: Path, wait: bool):
    """Check ``out`` holds nothing but training output, then lock it (a context manager)."""
    from text3d.store.locks import exclusive, folder_lock
    from text3d.store.outputs import check_job_output

    check_job_output(out, TRAINING_FILES, "a training run")
    return exclusive(folder_lock(out), str(out), wait_seconds(wait))


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
