"""The settings of each trainer, stated once: one frozen dataclass per trainer.

Every field carries its one-line doc and, in its metadata, what the rest of the project
derives from it: the ``text3d train`` option (flag and range), the stage of training it
affects (what a resumed or cached stage must share with the run that reuses it) and the
model card's settings table. Nothing else writes a default down again.

The module imports only the standard library and :mod:`text3d.limits`, so the CLI can
read it at ``text3d --help`` time.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from text3d.limits import MAX_ITEMS, MAX_SEED, MAX_WORKERS

MAX_TRAIN_STEPS = 10_000_000
"""Largest ``--steps`` (and ``--vae-steps``, ``--point-steps``) the CLI accepts."""
MAX_BATCH = 65_536
"""Largest ``--batch`` the CLI accepts."""

RUNTIME = "runtime"
"""Stage of a setting that changes how a run runs (device, processes, checkpoints), not what it trains."""


def setting(default: Any, doc: str, stage: str, flag: str | None = None,
            low: float | None = None, high: float | None = None) -> Any:
    """A config field: ``default``, its one-line ``doc``, the training ``stage`` it affects and,
    with ``flag``, the ``text3d train`` option that sets it (accepting ``[low, high]``)."""
    return dataclasses.field(default=default, metadata={"doc": doc, "stage": stage, "flag": flag,
                                                        "low": low, "high": high})


def ordered_fields(config_type: type) -> tuple[dataclasses.Field, ...]:
    """The fields of ``config_type``: those that change what is trained, then the runtime ones."""
    return tuple(sorted(dataclasses.fields(config_type), key=lambda f: f.metadata["stage"] == RUNTIME))


def option_fields(config_type: type) -> tuple[dataclasses.Field, ...]:
    """The fields of ``config_type`` that the CLI sets (they have a flag), runtime ones last."""
    return tuple(f for f in ordered_fields(config_type) if f.metadata.get("flag"))


def stage_key(config: Any, stages: tuple[str, ...]) -> dict[str, Any]:
    """{name: value} of the fields of ``config`` that affect one of ``stages``: what a cached or
    checkpointed stage must share with the run that reuses it."""
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.metadata["stage"] in stages}


def settings_table(config_type: type, values: dict[str, Any]) -> str:
    """Markdown table of every field of ``config_type``: name, value in ``values`` (a recorded
    config), and doc. A field the record lacks is shown as "not recorded"."""
    rows = [f"| `{f.name}` | {values[f.name] if f.name in values else 'not recorded'} | {f.metadata['doc']} |"
            for f in ordered_fields(config_type)]
    return "\n".join(["| setting | value | meaning |", "|---|---|---|", *rows])


def settings_section(config_type: type, values: dict[str, Any]) -> str:
    """The model card's "Training settings" section: :func:`settings_table` under its heading."""
    return (f"## Training settings\n\nEvery setting of `{config_type.__name__}` these weights were trained with "
            f"(`config.json`, `training.config`).\n\n{settings_table(config_type, values)}\n")


def reproduce_command(command: str, config: Any, extra: tuple[str, ...] = ()) -> str:
    """``text3d train …`` with every CLI setting of ``config`` that changes what is trained (runtime
    ones left out), then ``extra``."""
    parts = [command, "--out DIR"]
    for f in option_fields(type(config)):
        value = getattr(config, f.name)
        if f.metadata["stage"] != RUNTIME:
            parts.append(f"{f.metadata['flag']} {value}")
    return " ".join([*parts, *extra])


@dataclass(frozen=True)
class TrainConfig:
    """Settings every trainer has."""

    seed: int = setting(0, "Seed of initialization and batch sampling.", "shared", "--seed", 0, MAX_SEED)
    device: str | None = setting(None, "cpu, cuda, mps (default: best available).", RUNTIME, "--device")
    workers: int = setting(0, "Rendering processes (0 = one per core).", RUNTIME, "--workers", 0, MAX_WORKERS)


@dataclass(frozen=True)
class EncoderTrainConfig(TrainConfig):
    """Settings of ``text3d train encoders`` (every one is recorded in the model cards)."""

    items: int = setting(12600, "Training items (toyworld seeds from 0).", "shared", "--items", 2, MAX_ITEMS)
    views: int = setting(6, "Random-camera renders per item.", "shared")
    steps: int = setting(2000, "Image-encoder optimizer steps.", "image", "--steps", 1, MAX_TRAIN_STEPS)
    batch: int = setting(128, "Image-encoder batch size.", "image", "--batch", 2, MAX_BATCH)
    lr: float = setting(6e-4, "Image-encoder peak learning rate (AdamW, cosine schedule).", "image")
    warmup: int = setting(150, "Image-encoder linear warm-up steps.", "image")
    weight_decay: float = setting(0.05, "Image-encoder AdamW weight decay (matrices only).", "image")
    head_weight: float = setting(1.0, "Weight of the category + color head losses beside InfoNCE.", "image")
    point_items_every: int = setting(3, "Point clouds for the items of every k-th round of categories.", "shared")
    point_steps: int = setting(1000, "Point-encoder optimizer steps.", "point", "--point-steps", 1, MAX_TRAIN_STEPS)
    point_batch: int = setting(32, "Point-encoder batch size (clouds).", "point")
    point_sample: int = setting(1024, "Points drawn from each cloud per step.", "point")


ENCODER_MODELS = ("image", "point")
"""The encoders ``text3d train encoders`` trains by default (``--models``)."""
ENCODER_EVALUATE_N = 2400
"""Held-out instances of the encoders' self-check for the model cards (``--evaluate``)."""


@dataclass(frozen=True)
class GeneratorTrainConfig(TrainConfig):
    """Settings of ``text3d train generator`` (every one is recorded in the model card)."""

    items: int = setting(13500, "Training items (toyworld seeds from 0).", "shared", "--items", 2, MAX_ITEMS)
    vae_steps: int = setting(2500, "Block VAE optimizer steps.", "vae", "--vae-steps", 1, MAX_TRAIN_STEPS)
    vae_batch: int = setting(48, "Block VAE batch size (grids).", "vae")
    vae_lr: float = setting(1e-3, "Block VAE peak learning rate (AdamW, cosine schedule).", "vae")
    vae_empty_keep: float = setting(0.15, "Share of empty blocks the VAE loss trains on per step.", "vae")
    latent: int = setting(16, "Channels of each latent token.", "vae")
    steps: int = setting(4500, "Flow DiT optimizer steps.", "dit", "--steps", 1, MAX_TRAIN_STEPS)
    batch: int = setting(32, "DiT batch size.", "dit", "--batch", 2, MAX_BATCH)
    lr: float = setting(4e-4, "DiT peak learning rate (AdamW, cosine schedule).", "dit")
    warmup: int = setting(200, "DiT linear warm-up steps.", "dit")
    width: int = setting(256, "DiT width.", "dit")
    depth: int = setting(6, "DiT blocks.", "dit")
    cond_dropout: float = setting(0.1, "Fraction of conditions dropped (classifier-free guidance).", "dit")
    image_fraction: float = setting(0.25, "Fraction of DiT steps conditioned on image tokens.", "dit")
    typed_variants: int = setting(2, "Captions of each prompt retyped with outside color/size words.", "dit")
    checkpoint_every: int = setting(250, "DiT steps between resumable checkpoints.", RUNTIME)


VAE_STAGES = ("shared", "vae")
"""Stages the cached stage-1 VAE depends on."""
DIT_STAGES = ("shared", "vae", "dit")
"""Stages a DiT checkpoint depends on (the latents come from the VAE)."""
GENERATOR_CHECK_N = 90
"""Held-out prompts the generator's quick check generates for the model card (``--check``)."""
