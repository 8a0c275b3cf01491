"""Orchestration of ``text3d train encoders``: data → image encoder → point encoder →
held-out self-check → weights with model cards."""

from __future__ import annotations

import json
import logging
import platform
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from text3d.data.toyworld.instance import TEST_SEEDS
from text3d.encoders.embedded import EmbeddedImageEncoder, EmbeddedPointEncoder
from text3d.errors import InputError
from text3d.eval.encoder_quality import evaluate_encoders
from text3d.nn.checkpoint import load_folder, save_folder
from text3d.train.config import (
    ENCODER_EVALUATE_N,
    ENCODER_MODELS,
    EncoderTrainConfig,
    reproduce_command,
    settings_section,
)
from text3d.train.data import DataSpec, build_data
from text3d.train.encoders import train_image_encoder, train_point_encoder

log = logging.getLogger(__name__)


def encoder_card(title: str, what: str, training: dict[str, Any], quality: dict[str, Any], params: int) -> str:
    """The model card: what the model is, how it was trained (``training``, as ``config.json`` records it:
    every setting of :class:`EncoderTrainConfig`), measured quality."""
    c, data = training["config"], training["data"]
    rows = "\n".join(f"| `{k}` | {v} |" for k, v in quality.items())
    steps = (f"{c['steps']} image-encoder steps at batch {c['batch']}" if training["model"] == "image"
             else f"{c['point_steps']} point-encoder steps at batch {c['point_batch']} ({c['point_sample']} points)")
    return f"""# {title}

{what}

* Parameters: {params:,}
* Training data: toyworld training seeds (base seed 0), {data['items']:,} items (categories round-robin),
  {data['images']:,} renders ({c['views']} random views per item: yaw 0–360°, pitch 10–45°, r 2, FoV 40°,
  rendered at 128² and area-downsampled to 64²; white or black background; 25 % of items shown as their 32³
  voxel surface), {data['points']:,} point clouds (depth20 → 4,000 points, every category).
* Training: seed {c['seed']}, {steps}; AdamW, cosine schedule; bf16 autocast.
* Wall time on {training['hardware']}: data {training['data_seconds'] / 60:.1f} min (shared by both encoders),
  this model {training['seconds'] / 60:.1f} min.
* Reproduce: `{training['command']}`

{settings_section(EncoderTrainConfig, c)}
## Measured quality (test range, `text3d encoders evaluate --seed {quality.get('seed')} --n {quality.get('n')}`)

| figure | value |
|---|---|
{rows}
"""


IMAGE_WHAT = ("A ViT (64 px, patch 8, width 192, depth 6, CLS + 4 registers) trained contrastively against "
              "all-MiniLM-L6-v2 sentence vectors, with category and color heads. Roles: CLIP-like score, FD "
              "features (CLS), conditioning tokens.")
POINT_WHAT = ("PointNet (shared MLP 64-128-256-512, max-pool, head 256-128) classifying the toyworld categories "
              "from unit-sphere-normalized points; the 128-d penultimate activations are the FD_PointNet features.")


TRAINERS = {"image": (train_image_encoder, EmbeddedImageEncoder), "point": (train_point_encoder, EmbeddedPointEncoder)}
"""Each encoder's training function, and the class that reads a trained one back from its folder."""


def _command(config: EncoderTrainConfig, models: tuple[str, ...]) -> str:
    extra = () if tuple(models) == ENCODER_MODELS else (f"--models {','.join(models)}",)
    return reproduce_command("text3d train encoders", config, extra)


def encoder_folder(name: str) -> str:
    """The weights folder of encoder ``name`` (image, point) under ``--out``: ``<name>-encoder``."""
    return f"{name}-encoder"


def train_encoders(out: str | Path, config: EncoderTrainConfig, evaluate_n: int = ENCODER_EVALUATE_N,
                   progress: bool | None = None, models: tuple[str, ...] = ENCODER_MODELS) -> dict[str, Any]:
    """Train the encoders named in ``models`` into ``out/image-encoder`` and ``out/point-encoder``
    (a model not named is read from its folder in ``out``), evaluate both, write cards."""
    unknown = set(models) - set(ENCODER_MODELS)
    if unknown or not models:
        raise InputError(f"--models {','.join(models)}: choose from image, point")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in ENCODER_MODELS:
        folder = encoder_folder(name)
        if name not in models and not (out / folder / "config.json").exists():
            raise InputError(f"{out / folder}: no trained {name} encoder to reuse; train it too (--models image,point)")
    start = time.perf_counter()
    spec = DataSpec(n=config.items, views=config.views, points_every=config.point_items_every)
    data = build_data(spec, out / "cache", workers=config.workers, progress=progress)
    data_seconds = time.perf_counter() - start
    points = 0 if data.points is None else len(data.points)
    data_info = {"items": config.items, "images": int(len(data.images)), "points": int(points)}
    common = {"config": asdict(config), "data": data_info, "data_seconds": round(data_seconds, 1),
              "torch": torch.__version__, "hardware": platform.processor() or platform.machine(),
              "command": _command(config, models)}
    trainings: dict[str, dict[str, Any]] = {}
    trained: dict[str, torch.nn.Module] = {}
    with (out / "train_log.jsonl").open("a") as log_file:
        log_file.write(json.dumps({"event": "data", "seconds": round(data_seconds, 1), "items": config.items}) + "\n")
        for name in ENCODER_MODELS:
            folder = out / encoder_folder(name)
            train, encoder_type = TRAINERS[name]
            if name in models:
                t0 = time.perf_counter()
                trained[name] = train(data, config, log_file, progress)
                trainings[name] = {**common, "model": name, "seconds": round(time.perf_counter() - t0, 1)}
            else:
                trained[name] = encoder_type.from_pretrained(folder, config.device).model
                trainings[name] = {**common, "model": name, "seconds": 0.0,
                                   **load_folder(folder)[1].get("training", {})}
    image_model, point_model = trained["image"], trained["point"]
    image_encoder = EmbeddedImageEncoder(image_model, image_model.vit.pos.device)
    point_encoder = EmbeddedPointEncoder(point_model, next(point_model.parameters()).device, points=config.point_sample)
    quality = evaluate_encoders(seed=TEST_SEEDS.start, n=evaluate_n, image_encoder=image_encoder,
                                point_encoder=point_encoder, progress=progress) if evaluate_n else {}
    image_quality = {k: v for k, v in quality.items() if not k.startswith("point")}
    point_quality = {k: v for k, v in quality.items() if k.startswith("point") or k in ("seed", "n")}
    image_params = sum(p.numel() for p in image_model.parameters())
    point_params = sum(p.numel() for p in point_model.parameters())
    save_folder(out / encoder_folder("image"), {k: v.half() for k, v in image_model.state_dict().items()},
                {"model": image_model.config.to_dict(), "training": trainings["image"], "quality": image_quality},
                encoder_card("text3d embedded image encoder", IMAGE_WHAT, trainings["image"], image_quality,
                             image_params))
    save_folder(out / encoder_folder("point"), point_model.state_dict(),
                {"model": point_model.config.to_dict(), "points": config.point_sample,
                 "training": trainings["point"], "quality": point_quality},
                encoder_card("text3d embedded point encoder", POINT_WHAT, trainings["point"], point_quality,
                             point_params))
    seconds = round(time.perf_counter() - start, 1)
    return {"seconds": seconds, **quality}
