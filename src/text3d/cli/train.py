"""``text3d train``: one command per embedded model (encoders, generator, image-adapter, aligner, lm,
evaluator, mvdiffusion, turbo).

Each command's training options are made from the fields of its trainer's config dataclass
(:mod:`text3d.train.config`): flag, range, default and help are the field's, never restated here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import json
import logging
import math
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer

from text3d.cli._options import comma_list, command_group, finite_option, output_folder, wait_option
from text3d.errors import InputError
from text3d.limits import MAX_ITEMS
from text3d.store.outputs import check_job_output
from text3d.train.config import (
    ENCODER_EVALUATE_N,
    ENCODER_MODELS,
    GENERATOR_CHECK_N,
    AlignerTrainConfig,
    EncoderTrainConfig,
    GeneratorTrainConfig,
    ImageAdapterTrainConfig,
    option_fields,
)
from text3d.train.evaluator_config import EvaluatorTrainConfig
from text3d.train.lm_config import LM_EVALUATE_N, LMTrainConfig, lm_shape
from text3d.train.mvdiffusion_config import MVDiffusionTrainConfig
from text3d.train.prd_config import TEACHER_ASSETS, PRDTrainConfig

TRAINING_FILES = ("cache", "train_log.jsonl", "summary.json", "*.pt", "image-encoder", "point-encoder",
                  "stage1-vae", "generator", "aligner-stage1", "aligner-stage2", "toyworld-lm-*", "summary-*.json",
                  "evaluator", "toyworld-mvdiffusion", "triplane-turbo", TEACHER_ASSETS)
"""What a training folder holds (data cache, loss log, checkpoints, weights): a rerun resumes it."""

train_app = command_group(help="Train the embedded models on toyworld.", no_args_is_help=True)

log = logging.getLogger(__name__)


def config_option(field: dataclasses.Field, hint: Any = None) -> Any:
    """The typer option of a config field: its flag, default, range and one-line doc. Float fields
    are checked by :func:`finite_option` (typer's own range names the wrong problem for NaN); a bool
    field is a ``--flag/--no-flag`` pair, so a default that is on can be turned off."""
    meta = field.metadata
    if hint is bool:
        return typer.Option(field.default, f"{meta['flag']}/--no-{meta['flag'][2:]}", help=meta["doc"])
    if float in (hint, *typing.get_args(hint)):
        low = -math.inf if meta["low"] is None else meta["low"]
        high = math.inf if meta["high"] is None else meta["high"]
        return finite_option(field.default, meta["flag"], low, high, meta["doc"], meta.get("low_open", False))
    return typer.Option(field.default, meta["flag"], min=meta["low"], max=meta["high"], help=meta["doc"])


def with_config_options(config_type: type) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Decorator: the command also takes one option per field of ``config_type`` that has a flag,
    and receives them as one ``config=config_type(...)`` argument."""
    hints = typing.get_type_hints(config_type)
    fields = option_fields(config_type)

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        own_hints = typing.get_type_hints(command)
        own = [p.replace(annotation=own_hints[p.name]) for p in inspect.signature(command).parameters.values()
               if p.name != "config"]
        added = [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=config_option(f, hints[f.name]),
                                   annotation=hints[f.name]) for f in fields]

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> None:
            config = config_type(**{f.name: kwargs.pop(f.name) for f in fields})
            if getattr(config, "device", None):  # an unknown or missing device: one line before any work
                from text3d.device import resolve_device

                resolve_device(config.device)
            command(config=config, **kwargs)

        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + added
        wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return wrapper

    return decorate


@train_app.command("encoders")
@with_config_options(EncoderTrainConfig)
def encoders_command(
    config: EncoderTrainConfig,
    out: Path = typer.Option(..., "--out", "-o", help="Folder for image-encoder/, point-encoder/, the loss log."),
    evaluate: int = typer.Option(ENCODER_EVALUATE_N, "--evaluate", min=0, max=MAX_ITEMS,
                                 help="Held-out instances for the model cards (0 = skip)."),
    models: str = typer.Option(",".join(ENCODER_MODELS), "--models",
                               help="Which to train; the others are read from --out."),
    wait: bool = wait_option(),
) -> None:
    """Train the embedded image encoder (CLIP-like) and point encoder; write weights + cards."""
    # the trainers import torch at their top: kept out of `text3d --help`
    from text3d.train.config import check_finished_model
    from text3d.train.run_encoders import encoder_folder, train_encoders

    chosen = comma_list(models, "--models")
    unknown = sorted(set(chosen) - set(ENCODER_MODELS))
    if unknown or not chosen:
        raise InputError(f"--models {models!r}: use image, point or image,point")
    records = {name: check_finished_model(out, encoder_folder(name), config, ("shared", name), f"the {name} encoder")
               for name in chosen}  # the stages of an encoder: the shared data settings and its own
    if all(records.values()):
        _already_trained({"quality": {n: r.get("quality", {}) for n, r in records.items()}}, out,
                         " and ".join(f"the {n} encoder" for n in chosen))
        return
    with _training_folder(out, wait):
        figures = train_encoders(out, config, evaluate_n=evaluate,  # a finished one is read from --out
                                 models=tuple(name for name in chosen if records[name] is None))
    typer.echo(json.dumps(figures, indent=2, sort_keys=True))


@train_app.command("generator")
@with_config_options(GeneratorTrainConfig)
def generator_command(
    config: GeneratorTrainConfig,
    out: Path = typer.Option(..., "--out", "-o", help="Folder for generator/, the loss log and the data cache."),
    check: int = typer.Option(GENERATOR_CHECK_N, "--check", min=0, max=MAX_ITEMS,
                              help="Held-out prompts generated for the model card (0 = skip)."),
    finetune: Path = typer.Option(None, "--finetune", help="Fine-tune instead: a text3d bias augment folder or its "
                                  "pairs.jsonl; --out becomes the new model folder (see --finetune-steps)."),
    finetune_steps: int = typer.Option(None, "--finetune-steps", min=1, max=1_000_000,
                                       help="With --finetune: optimizer steps (default 300)."),
    replay: float = finite_option(None, "--replay", 0.0, 1.0,
                                  "With --finetune: share of each batch replayed from toyworld training items (default"
                                  " 0.5)."),
    base: str = typer.Option(None, "--model", help="With --finetune: the generator folder to start from."),
    wait: bool = wait_option(),
) -> None:
    """Train the embedded generator (block VAE + rectified-flow DiT); write weights + card."""
    # the trainers import torch at their top: kept out of `text3d --help`
    if finetune is not None:
        from text3d.train.generator_finetune import FINETUNE_FILES, FinetuneConfig, finetune_generator

        chosen = {k: v for k, v in (("steps", finetune_steps), ("replay", replay)) if v is not None}
        settings = FinetuneConfig(**chosen, seed=config.seed, device=config.device)
        defaults = GeneratorTrainConfig()
        ignored = [f"--{f.name.replace('_', '-')}" for f in dataclasses.fields(config)
                   if f.name not in ("seed", "device") and getattr(config, f.name) != getattr(defaults, f.name)]
        if check != GENERATOR_CHECK_N:
            ignored.append("--check")
        if ignored:  # the fine-tuning has its own settings: these train a generator from scratch
            log.warning("%s: unused with --finetune (it takes --finetune-steps, --replay, --model, --seed, --device)",
                        ", ".join(ignored))
        check_job_output(out, FINETUNE_FILES, "a fine-tuned generator")
        with output_folder(out, wait):
            summary = finetune_generator(finetune, out, settings, base=base)
        typer.echo(json.dumps({k: v for k, v in summary.items() if k != "key"}, indent=2, sort_keys=True))
        return
    from text3d.generators.backends.embedded import GENERATOR_FOLDER
    from text3d.train.config import DIT_STAGES, check_finished_model
    from text3d.train.run_generator import train_generator

    given = [name for name, value in (("--model", base), ("--finetune-steps", finetune_steps), ("--replay", replay))
             if value is not None]
    if given:
        log.warning("%s: unused without --finetune (they set the fine-tuning)", ", ".join(given))
    if _already_trained(check_finished_model(out, GENERATOR_FOLDER, config, DIT_STAGES, "a generator"), out,
                        "a generator"):
        return
    with _training_folder(out, wait):
        figures = train_generator(out, config, check_n=check)
    typer.echo(json.dumps(figures, indent=2, sort_keys=True))


def _already_trained(record: dict[str, Any] | None, out: Path, what: str) -> bool:
    """Say so, and print the finished model's recorded figures, when ``record`` (from
    :func:`text3d.train.config.check_finished_model`) shows ``out`` already holds ``what`` trained with
    these settings: nothing is trained again."""
    if record is None:
        return False
    log.warning("--out %s already holds %s trained with these settings; nothing was trained (give a new --out "
                "to train another)", out, what)
    quality = record.get("quality")
    if not quality:  # trained with its checks off: the training's own figures instead of an empty {}
        log.warning("its quality was not measured when it was trained; its training figures follow")
        training = record.get("training")
        quality = {k: v for k, v in training.items() if k != "config"} if isinstance(training, dict) else {}
    typer.echo(json.dumps(quality, indent=2, sort_keys=True, default=str))
    return True


@train_app.command("aligner")
@with_config_options(AlignerTrainConfig)
def aligner_command(
    config: AlignerTrainConfig,
    out: Path = typer.Option(..., "--out", "-o", help="Folder for aligner-stage1/ or aligner-stage2/, the loss log "
                             "and the target cache."),
    wait: bool = wait_option(),
) -> None:
    """Train GAP3D's aligner (soft tokens + flow DiT onto image-encoder tokens), stage 1 or 2."""
    # the trainers import torch at their top: kept out of `text3d --help`
    from text3d.train.config import ALIGNER_STAGES, check_finished_model
    from text3d.train.run_aligner import train_aligner, weights_folder

    record = check_finished_model(out, weights_folder(out, config.stage).name, config, ALIGNER_STAGES, "an aligner")
    if _already_trained(record, out, "an aligner"):
        return
    with _training_folder(out, wait):
        figures = train_aligner(out, config)
    typer.echo(json.dumps(figures, indent=2, sort_keys=True))


@train_app.command("image-adapter")
@with_config_options(ImageAdapterTrainConfig)
def image_adapter_command(
    config: ImageAdapterTrainConfig,
    out: Path = typer.Option(..., "--out", "-o", help="Folder for generator/ (the base model with the adapter), "
                             "the loss log and the data cache."),
    wait: bool = wait_option(),
) -> None:
    """Train an image-prompt adapter on the embedded generator's image-token path (GAP3D's injection
    point), the rest of the generator frozen."""
    from text3d.generators.backends.embedded import GENERATOR_FOLDER
    from text3d.train.config import ADAPTER_STAGES, check_finished_model
    from text3d.train.image_adapter import adapt_generator

    record = check_finished_model(out, GENERATOR_FOLDER, config, ADAPTER_STAGES, "a generator",
                                  keys=("training", "image_adapter", "config"))
    if _already_trained(record, out, "a generator with an image adapter"):
        return
    with _training_folder(out, wait):
        figures = adapt_generator(out, config)
    typer.echo(json.dumps(figures, indent=2, sort_keys=True))


@train_app.command("lm")
@with_config_options(LMTrainConfig)
def lm_command(
    config: LMTrainConfig,
    out: Path = typer.Option(..., "--out", "-o", help="Folder for toyworld-lm-SIZE/, the loss log and the pair cache "
                             "(one folder can hold all three sizes)."),
    evaluate: int = typer.Option(LM_EVALUATE_N, "--evaluate", min=0, max=MAX_ITEMS,
                                 help="Test-range instances checked for the model card (0 = skip)."),
    dev: int = typer.Option(0, "--dev", min=0, max=MAX_ITEMS,
                            help="Development-range instances checked too (0 = skip)."),
    wait: bool = wait_option(),
) -> None:
    """Train one size (s, m, l) of the toyworld caption LM for `--llm hf:toyworld-lm:SIZE`; write weights + card."""
    # the trainer imports torch and transformers at its top: kept out of `text3d --help`
    from text3d.train.config import check_finished_model
    from text3d.train.lm_config import LM_STAGES
    from text3d.train.run_lm import TRAINING_FILE, lm_folder, train_lm_size

    lm_shape(config.size)
    check_finished_model(out, lm_folder(config.size), config.resolved(), LM_STAGES, f"a caption LM of size "
                         f"{config.size}", record=TRAINING_FILE, keys=("config",))
    with _training_folder(out, wait):
        figures = train_lm_size(out, config, evaluate_n=evaluate, dev_n=dev)
    typer.echo(json.dumps(figures, indent=2, sort_keys=True))


@train_app.command("evaluator")
@with_config_options(EvaluatorTrainConfig)
def evaluator_command(
    config: EvaluatorTrainConfig,
    out: Path = typer.Option(..., "--out", "-o", help="Folder for evaluator/, the loss log and the sample cache."),
    wait: bool = wait_option(),
) -> None:
    """Train the embedded multidimensional evaluator (HyperScore-style: alignment, geometry, texture, overall)."""
    # the trainer imports torch at its top: kept out of `text3d --help`
    from text3d.train.config import check_finished_model
    from text3d.train.evaluator import FOLDER, train_evaluator
    from text3d.train.evaluator_config import EVALUATOR_STAGES

    if _already_trained(check_finished_model(out, FOLDER, config, EVALUATOR_STAGES, "an evaluator"), out,
                        "an evaluator"):
        return
    with _training_folder(out, wait):
        figures = train_evaluator(out, config)
    typer.echo(json.dumps(figures, indent=2, sort_keys=True))


@train_app.command("mvdiffusion")
@with_config_options(MVDiffusionTrainConfig)
def mvdiffusion_command(
    config: MVDiffusionTrainConfig,
    out: Path = typer.Option(..., "--out", "-o", help="Folder for toyworld-mvdiffusion/, the loss log and the "
                             "render cache."),
    wait: bool = wait_option(),
) -> None:
    """Train the embedded multi-view diffusion teacher (4 views of RGB + normal + depth); write weights + card."""
    # the trainer imports torch at its top: kept out of `text3d --help`
    from text3d.train.config import check_finished_model
    from text3d.train.mvdiffusion import FOLDER, check_architecture, train_mvdiffusion
    from text3d.train.mvdiffusion_config import MODEL_STAGES

    check_architecture(config)  # before the folder is made
    if _already_trained(check_finished_model(out, FOLDER, config, MODEL_STAGES, "a multi-view teacher"), out,
                        "a multi-view teacher"):
        return
    with _training_folder(out, wait):
        figures = train_mvdiffusion(out, config)
    typer.echo(json.dumps(figures, indent=2, sort_keys=True))


@train_app.command("turbo")
@with_config_options(PRDTrainConfig)
def turbo_command(
    config: PRDTrainConfig,
    out: Path = typer.Option(..., "--out", "-o", help="Folder for triplane-turbo/ (the student), the loss log and "
                             "the checkpoint."),
    wait: bool = wait_option(),
) -> None:
    """Distill the few-step triplane student (PETA on the teacher's backbone) by progressive rendering
    distillation from the embedded multi-view teacher; no 3D data is read."""
    # the trainer imports torch at its top: kept out of `text3d --help`
    from text3d.train.prd import train_prd

    with _training_folder(out, wait):
        figures = train_prd(out, config)
    typer.echo(json.dumps(figures, indent=2, sort_keys=True))


train_app.command("prd", help="Same as `text3d train turbo` (the issue's name).")(turbo_command)


@contextlib.contextmanager
def _training_folder(out: Path, wait: bool) -> Iterator[Path]:
    """Check ``out`` holds nothing but training output, lock it, and remove what a killed earlier
    run's writers left half-written (``.*.tmp``; safe under the lock, which every writer holds)."""
    from text3d.store.atomic import remove_stale_temporaries

    check_job_output(out, TRAINING_FILES, "a training run")
    with output_folder(out, wait) as lock:
        removed = remove_stale_temporaries(out)
        if removed:
            log.info("removed %d half-written file(s) of an earlier, killed run in %s", removed, out)
        yield lock


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
