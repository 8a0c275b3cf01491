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
import logging
import shlex
from dataclasses import dataclass
from typing import Any

from text3d.limits import MAX_ITEMS, MAX_SEED, MAX_WORKERS

log = logging.getLogger(__name__)

MAX_TRAIN_STEPS = 10_000_000
"""Largest ``--steps`` (and ``--vae-steps``, ``--point-steps``) the CLI accepts."""
MAX_BATCH = 65_536
"""Largest ``--batch`` the CLI accepts."""
MAX_WIDTH = 4096
"""Largest transformer ``--width`` the CLI accepts."""

RUNTIME = "runtime"
"""Stage of a setting that changes how a run runs (device, processes, checkpoints), not what it trains."""


def setting(default: Any, doc: str, stage: str, flag: str | None = None,
            low: float | None = None, high: float | None = None, low_open: bool = False) -> Any:
    """A config field: ``default``, its one-line ``doc``, the training ``stage`` it affects and,
    with ``flag``, the ``text3d train`` option that sets it (accepting ``[low, high]``, or
    ``(low, high]`` with ``low_open``)."""
    return dataclasses.field(default=default, metadata={"doc": doc, "stage": stage, "flag": flag,
                                                        "low": low, "high": high, "low_open": low_open})


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


def differing_settings(config: Any, stages: tuple[str, ...], recorded: dict[str, Any]) -> list[str]:
    """Names of ``config``'s fields for ``stages`` (:func:`stage_key`) whose value differs from a
    finished model's ``recorded`` config: a nonempty list means that model was trained otherwise."""
    return [k for k, v in stage_key(config, stages).items() if recorded.get(k) != v]


def check_finished_model(out: Any, folder: str, config: Any, stages: tuple[str, ...], what: str,
                         record: str = "config.json", keys: tuple[str, ...] = ("training", "config")
                         ) -> dict[str, Any] | None:
    """Refuse in one line an ``out`` whose finished ``folder/`` (its settings at ``keys`` of the JSON file
    ``record``) was trained with other ``stages`` settings than ``config``: training would replace it.
    Returns that record when the finished model has the same settings (training it again would replace
    what was added to it since, such as an aligner's calibration), None when there is none."""
    from pathlib import Path

    from text3d.errors import InputError
    from text3d.store.atomic import read_mapping

    path = Path(out) / folder / record
    if not path.is_file():
        return
    recorded: Any = read_mapping(path)
    for key in keys:
        recorded = recorded.get(key, {}) if isinstance(recorded, dict) else {}
    differ = differing_settings(config, stages, recorded if isinstance(recorded, dict) else {})
    if differ:
        raise InputError(f"--out {out}: holds {what} trained with other settings ({', '.join(differ[:4])} "
                         "differ); give a new folder, or the same settings")
    document = read_mapping(path)
    return document if isinstance(document, dict) else {}


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
    ones and unset ones, None, left out; a switch as ``--flag`` when on, as ``--no-flag`` when off
    against a default that is on), then ``extra``."""
    parts = [command, "--out DIR"]
    for f in option_fields(type(config)):
        value = getattr(config, f.name)
        if isinstance(value, bool):
            if f.metadata["stage"] != RUNTIME and (value or f.default):
                parts.append(f.metadata["flag"] if value else f"--no-{f.metadata['flag'][2:]}")
        elif f.metadata["stage"] != RUNTIME and value is not None:
            parts.append(f"{f.metadata['flag']} {shlex.quote(str(value))}")
    return " ".join([*parts, *extra])


@dataclass(frozen=True)
class TrainConfig:
    """Settings every trainer has."""

    seed: int = setting(0, "Seed of initialization and batch sampling.", "shared", "--seed", 0, MAX_SEED)
    device: str | None = setting(None, "cpu, cuda, mps (default: best available).", RUNTIME, "--device")
    workers: int = setting(0, "Rendering processes (0 = one per core).", RUNTIME, "--workers", 0, MAX_WORKERS)


def warn_cpu_only(config: TrainConfig, trainer: str) -> None:
    """Warn that ``trainer`` runs on the CPU whatever ``--device`` names (it was checked to exist)."""
    if config.device and not config.device.startswith("cpu"):
        log.warning("%s trains on the CPU only; --device %s is not used", trainer, config.device)


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


@dataclass(frozen=True)
class AlignerTrainConfig(TrainConfig):
    """Settings of ``text3d train aligner``, GAP3D's (Gkotsi et al., 2026) alignment DiT and soft tokens
    (every one is recorded in the model card).

    The defaults train stage 1 then stage 2 in about 40 CPU-minutes on 2 cores, within 60: a timed run
    of a few steps took 0.8 CPU-seconds a step (one thread, batch 16 of ~25-token captions), so
    2 × 1,000 steps take ~27 CPU-minutes (~35 allowing for a second thread's overhead), and making the
    2 × 1,000 pairs ~0.07 (stage 1) + ~0.19 (stage 2) CPU-seconds a pair, ~4 more. The DiT has 3.7 M
    parameters (15 MB of float32 weights), the 16 soft tokens 25 kB. The steps are small (batch 16 of
    short sequences): on a machine shared with other jobs two torch threads ran ~9× slower a step than
    one, so run it there with ``OMP_NUM_THREADS=1``.
    """

    stage: int = setting(1, "Training data: 1 = multi-object scenes, 2 = single objects at their least-occluded view.",
                         "shared", "--stage", 1, 2)
    items: int = setting(1000, "Distinct image-caption pairs (toyworld training seeds from 0).", "shared",
                         "--items", 2, MAX_ITEMS)
    steps: int = setting(1000, "Optimizer steps.", "aligner", "--steps", 1, MAX_TRAIN_STEPS)
    batch: int = setting(16, "Batch size (pairs).", "aligner", "--batch", 1, MAX_BATCH)
    lr: float = setting(3e-4, "Peak learning rate (AdamW, cosine schedule to 0).", "aligner", "--lr", 0.0, 1.0,
                        low_open=True)
    warmup: int = setting(50, "Linear warm-up steps.", "aligner", "--warmup", 0, MAX_TRAIN_STEPS)
    weight_decay: float = setting(0.01, "AdamW weight decay.", "aligner", "--weight-decay", 0.0, 1.0)
    soft_tokens: int = setting(16, "Soft tokens appended to the frozen MiniLM's input (s).", "aligner",
                               "--soft-tokens", 1, 256)
    width: int = setting(192, "Alignment DiT width.", "aligner", "--width", 8, MAX_WIDTH)
    depth: int = setting(4, "Alignment DiT blocks.", "aligner", "--depth", 1, 64)
    heads: int = setting(4, "Alignment DiT attention heads (width / heads divisible by 4, for 2D RoPE).",
                         "aligner", "--heads", 1, 64)
    drop_prob: float = setting(0.1, "Fraction of conditions dropped (classifier-free guidance).", "aligner",
                               "--drop-prob", 0.0, 1.0)
    patch_weight: float = setting(0.4, "Loss weight of the patch grid (lambda_p).", "aligner",
                                  "--patch-weight", 0.0, 100.0)
    cls_weight: float = setting(0.3, "Loss weight of the CLS token (lambda_cls).", "aligner",
                                "--cls-weight", 0.0, 100.0)
    register_weight: float = setting(0.3, "Loss weight of the register tokens (lambda_reg).", "aligner",
                                     "--register-weight", 0.0, 100.0)
    ema: float = setting(0.0, "Decay of an exponential moving average of the trained weights, which the folder "
                         "gets instead of the last step's (0 = no average).", "aligner", "--ema", 0.0, 0.9999)
    freeze_soft: bool = setting(False, "Keep the soft tokens fixed (as --init left them) and train the DiT only; "
                                "each caption's condition is then computed once, not at every step.",
                                "aligner", "--freeze-soft")
    init: str | None = setting(None, "Aligner folder (or stage-1 run folder) to start from, for stage 2.",
                               "aligner", "--init")
    checkpoint_every: int = setting(100, "Steps between resumable checkpoints.", RUNTIME, "--checkpoint-every",
                                    1, MAX_TRAIN_STEPS)


ALIGNER_STAGES = ("shared", "aligner")
"""Stages an aligner checkpoint depends on (every setting but the runtime ones)."""


@dataclass(frozen=True)
class ImageAdapterTrainConfig(TrainConfig):
    """Settings of ``text3d train image-adapter`` (every one is recorded in the model card)."""

    items: int = setting(13500, "Training items (toyworld seeds from 0), those of the generator.", "shared",
                         "--items", 2, MAX_ITEMS)
    depth: int = setting(2, "Adapter blocks (self-attention + MLP at the DiT's width).", "adapter",
                         "--depth", 1, 64)
    steps: int = setting(6000, "Optimizer steps.", "adapter", "--steps", 1, MAX_TRAIN_STEPS)
    batch: int = setting(32, "Batch size (item renders).", "adapter", "--batch", 2, MAX_BATCH)
    lr: float = setting(3e-4, "Peak learning rate (AdamW, cosine schedule to 0).", "adapter", "--lr", 0.0, 1.0,
                        low_open=True)
    warmup: int = setting(100, "Linear warm-up steps.", "adapter")
    cond_dropout: float = setting(0.1, "Fraction of conditions dropped (classifier-free guidance).", "adapter")
    token_noise: float = setting(0.0, "Largest relative noise added to the image tokens (each render draws a "
                                 "level in [0, this]).", "adapter", "--token-noise", 0.0, 10.0)
    base: str | None = setting(None, "Generator folder to adapt (default: the shipped one).", "shared", "--model")
    init: str | None = setting(None, "Adapted generator folder whose adapter, image projection and image null "
                               "tokens start the run, with a fresh warm-up and schedule (default: a new adapter).",
                               "adapter", "--init")
    checkpoint_every: int = setting(100, "Steps between resumable checkpoints.", RUNTIME, "--checkpoint-every",
                                    1, MAX_TRAIN_STEPS)


ADAPTER_STAGES = ("shared", "adapter")
"""Stages an image-adapter checkpoint depends on (every setting but the runtime ones)."""
