"""Orchestration of ``text3d train aligner``: pairs → image-encoder token targets (cached) →
alignment DiT + soft tokens → weights folder + model card.

Stage 1 trains on toyworld's multi-object scenes, stage 2 fine-tunes on single objects seen from
their least-occluded view (GAP3D (Gkotsi et al., 2026), §4.4: general pre-training, then
domain-specific fine-tuning), started from a stage-1 folder with ``--init``. Pairs come from
toyworld's training seeds only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import platform
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from text3d.data.toyworld.instance import TRAIN_SEEDS
from text3d.encoders.embedded import EmbeddedImageEncoder
from text3d.errors import InputError
from text3d.nn.checkpoint import weight_files
from text3d.progress import track
from text3d.store.atomic import write_atomic
from text3d.train.aligner import (
    AlignerData,
    check_architecture,
    save_aligner,
    train_aligner_model,
)
from text3d.train.config import AlignerTrainConfig, reproduce_command, settings_section
from text3d.train.pool import map_in_workers

log = logging.getLogger(__name__)

PairSource = Callable[..., Iterator[Any]]
"""``pairs(stage, seeds, resolution=…)`` → pairs with ``image`` (H, W, 3) uint8, ``caption`` or
``captions``, and ``seed`` (:func:`text3d.align.scenes.pairs`)."""

STAGE_DATA = {1: "toyworld multi-object scenes (general domain)",
              2: "toyworld single objects at their least-occluded view (domain-specific)"}


def weights_folder(out: Path, stage: int) -> Path:
    """Where a run of ``stage`` writes its aligner: ``out/aligner-stage{stage}``."""
    return Path(out) / f"aligner-stage{stage}"


def resolve_init(init: str | Path) -> Path:
    """The aligner folder ``--init`` names: the folder itself, or a run folder's ``aligner-stage1``."""
    path = Path(init)
    for folder in (path, weights_folder(path, 1)):
        if (folder / "config.json").exists() and (folder / "model.safetensors").exists():
            return folder
    raise InputError(f"--init {init}: no aligner there (config.json + model.safetensors, or aligner-stage1/ "
                     "of a `text3d train aligner --stage 1` run)")


def training_seeds(items: int) -> range:
    """The first ``items`` of toyworld's training seeds (never the development or test ranges)."""
    if items > len(TRAIN_SEEDS):
        raise InputError(f"--items {items}: toyworld has {len(TRAIN_SEEDS):,} training seeds")
    return range(TRAIN_SEEDS.start, TRAIN_SEEDS.start + items)


def _default_pairs(stage: int, seeds: Iterable[int], resolution: int = 64) -> Iterator[Any]:
    from text3d.align.scenes import pairs  # renders toyworld; imported only when pairs are made

    return pairs(stage, seeds, resolution=resolution)


def pair_captions(pair: Any) -> tuple[str, ...]:
    """Every caption of a pair: its ``captions`` when it has several, else its one ``caption``."""
    captions = tuple(getattr(pair, "captions", None) or (pair.caption,))
    return tuple(c for c in captions if c) or ("",)


def _encoder_digest(encoder: EmbeddedImageEncoder) -> str:
    """SHA-256 of the image encoder's weight files: cached targets are valid for these weights only."""
    digest = hashlib.sha256()
    if encoder.folder is None:
        return "unknown"
    for path in weight_files(encoder.folder):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


RENDER_CHUNK = 8
"""Seeds a rendering process makes per job."""

Rendered = tuple[np.ndarray, tuple[str, ...], int]
"""One pair as kept: image (H, W, 3) uint8, its captions, its seed."""


def _render_chunk(job: tuple[int, tuple[int, ...], int]) -> list[Rendered]:
    stage, seeds, resolution = job
    return [(np.asarray(p.image, dtype=np.uint8), pair_captions(p), int(p.seed))
            for p in _default_pairs(stage, seeds, resolution=resolution)]


def render_pairs(stage: int, seeds: range, resolution: int, pair_source: PairSource | None = None,
                 workers: int = 0, progress: bool | None = None) -> list[Rendered]:
    """The pairs of ``seeds`` in seed order: from ``pair_source`` in this process, or from toyworld's
    scenes in ``workers`` processes (0 = one per core) of :data:`RENDER_CHUNK` seeds a job."""
    if pair_source is not None:
        made = pair_source(stage, seeds, resolution=resolution)
        return [(np.asarray(p.image, dtype=np.uint8), pair_captions(p), int(p.seed))
                for p in track(made, total=len(seeds), description="render pairs", enabled=progress)]
    jobs = [(stage, tuple(seeds[i:i + RENDER_CHUNK]), resolution) for i in range(0, len(seeds), RENDER_CHUNK)]
    chunks = map_in_workers(_render_chunk, jobs, "render pairs", workers, progress)
    return [pair for chunk in chunks for pair in chunk]


def build_targets(out: Path, config: AlignerTrainConfig, encoder: EmbeddedImageEncoder,
                  pair_source: PairSource | None = None, progress: bool | None = None,
                  ) -> tuple[AlignerData, dict[str, Any]]:
    """(targets, data description): the encoder's tokens of every pair's image, computed once and
    kept in ``out/cache/aligner-stage{stage}.pt`` (float16; the float32 targets are read back from
    those values either way, so a fresh and a cached run train on the same numbers)."""
    vit = encoder.config
    seeds = training_seeds(config.items)
    key = {"stage": config.stage, "seeds": [seeds.start, seeds.stop], "resolution": vit.image_size,
           "encoder": _encoder_digest(encoder)}
    path = Path(out) / "cache" / f"aligner-stage{config.stage}.pt"
    cached = torch.load(path, weights_only=True) if path.exists() else None
    if cached is not None and cached.get("key") == key:
        log.info("reusing the cached targets in %s", path)
        tokens, captions, pair_seeds = cached["tokens"], cached["captions"], cached["seeds"]
    else:
        made = render_pairs(config.stage, seeds, vit.image_size, pair_source, config.workers, progress)
        if not made:
            raise InputError(f"--stage {config.stage} --items {config.items}: no training pairs were made")
        tokens = encoder.tokens([image for image, _, _ in made]).half()  # (N, 1 + R + G², D)
        captions = [list(c) for _, c, _ in made]
        pair_seeds = [seed for _, _, seed in made]
        path.parent.mkdir(parents=True, exist_ok=True)
        saved = {"key": key, "tokens": tokens, "captions": captions, "seeds": pair_seeds}
        write_atomic(path, lambda handle: torch.save(saved, handle))
    data = AlignerData(tokens=tokens.float(), captions=tuple(tuple(c) for c in captions),
                       registers=vit.registers, grid=vit.image_size // vit.patch_size)
    description = {"source": STAGE_DATA[config.stage], "pairs": len(captions),
                   "seeds": [min(pair_seeds), max(pair_seeds) + 1], "seed_range": "toyworld training",
                   "captions": sum(len(c) for c in captions), "resolution": vit.image_size,
                   "image_encoder": str(encoder.folder), "image_encoder_sha256": key["encoder"],
                   "target_tokens": list(tokens.shape[1:])}
    return data, description


TRAINED = {False: "Only the soft tokens and the DiT train; MiniLM and the image encoder stay frozen.",
           True: "Only the DiT trains: the soft tokens keep the values they were given (`--init`), MiniLM and the\n"
                 "image encoder stay frozen, so each caption's condition is computed once (`--freeze-soft`)."}
"""The card's line on what trains, by ``freeze_soft``."""


def aligner_card(config: AlignerTrainConfig, training: dict[str, Any], params: int) -> str:
    """The model card: what the model is, its data and training (every setting of ``config``)."""
    data, seconds = training["data"], training["seconds"]
    total = sum(seconds.values())
    start = f"the aligner in `{config.init}`" if config.init else "a fresh initialization"
    times = ", ".join(f"{name.replace('_', ' ')} {value / 60:.1f} min" for name, value in seconds.items())
    return f"""# text3d aligner, stage {config.stage}

GAP3D (Gkotsi et al., 2026) at toy scale: a flow DiT (Lumina-Next style: 2D RoPE self-attention
over the patch grid, cross-attention to the condition) generates the embedded image encoder's
whole token set (CLS, registers, patch grid: {data['target_tokens'][0]} tokens of {data['target_tokens'][1]}) from the
hidden states of {config.soft_tokens} soft tokens appended to a caption in the frozen all-MiniLM-L6-v2.
{TRAINED[config.freeze_soft]}

* Parameters: DiT {params:,} (width {config.width}, depth {config.depth}, {config.heads} heads;
  `model.safetensors`, float32); soft tokens {config.soft_tokens} × 384 (`soft_tokens.safetensors`).
* Data: {data['source']}: {data['pairs']:,} pairs from toyworld's training seeds
  [{data['seeds'][0]}, {data['seeds'][1]}), {data['captions']:,} captions (one drawn at random per step),
  {data['resolution']}-px images.
* Training: from {start}; seed {config.seed}; {config.steps} steps at batch {config.batch}; AdamW,
  lr {config.lr} (cosine to 0 after {config.warmup} warm-up steps); rectified flow with loss weights
  patches {config.patch_weight}, CLS {config.cls_weight}, registers {config.register_weight};
  {int(config.drop_prob * 100)} % condition dropout (classifier-free guidance).
* Wall time of the last attempt: {times}, total {total / 60:.1f} min on {platform.processor() or platform.machine()};
  training {training.get('train_cpu_minutes', '?')} CPU-minutes over every attempt up to its last checkpoint.
* Reproduce: `{reproduce_command("text3d train aligner", config)}`

{settings_section(AlignerTrainConfig, dataclasses.asdict(config))}"""


def train_aligner(out: str | Path, config: AlignerTrainConfig, pair_source: PairSource | None = None,
                  progress: bool | None = None, log_every: int = 25) -> dict[str, Any]:
    """Train stage ``config.stage`` into ``out/aligner-stage{stage}``; returns the folder, the number
    of pairs and parameters, and timings.

    ``pair_source``: where the pairs come from (default :func:`text3d.align.scenes.pairs`, rendered in
    ``config.workers`` processes)."""
    check_architecture(config)
    init = resolve_init(config.init) if config.init else None
    if init is None and config.stage == 2:
        log.warning("stage 2 without --init: fine-tuning from a fresh initialization")
    if init is None and config.freeze_soft:
        log.warning("--freeze-soft without --init: the soft tokens stay at their random initialization")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    encoder = EmbeddedImageEncoder.from_pretrained(device=config.device)
    data, description = build_targets(out, config, encoder, pair_source, progress)
    del encoder
    seconds["data"] = time.perf_counter() - start
    start = time.perf_counter()
    with (out / "train_log.jsonl").open("a") as log_file:
        dit, soft, train_cpu_s = train_aligner_model(data, config, log_file, init, progress,
                                        checkpoint=out / f"aligner-stage{config.stage}.pt", log_every=log_every)
    seconds["train"] = time.perf_counter() - start
    params = sum(p.numel() for p in dit.parameters())
    training = {"config": dataclasses.asdict(config), "data": description, "init": str(init) if init else None,
                "seconds": {k: round(v, 1) for k, v in seconds.items()},
                "train_cpu_minutes": round(train_cpu_s / 60, 2),  # all attempts, when resumed
                "torch": torch.__version__}
    folder = weights_folder(out, config.stage)
    save_aligner(folder, dit, soft, {"training": training}, aligner_card(config, training, params))
    summary = {"stage": config.stage, "folder": str(folder), "pairs": description["pairs"], "parameters": params,
               "seconds": training["seconds"], "train_cpu_minutes": training["train_cpu_minutes"]}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary
