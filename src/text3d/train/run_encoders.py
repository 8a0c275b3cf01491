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

from text3d.train.encoders import EncoderTrainConfig

log = logging.getLogger(__name__)


def _card(title: str, what: str, training: dict[str, Any], quality: dict[str, Any], params: int) -> str:
    """The model card: what the model is, how it was trained (from ``training``), measured quality."""
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

## Measured quality (held-out toyworld, `text3d encoders evaluate --seed {quality.get('seed')} --n {quality.get('n')}`)

| figure | value |
|---|---|
{rows}
"""


IMAGE_WHAT = ("A ViT (64 px, patch 8, width 192, depth 6, CLS + 4 registers) trained contrastively against "
              "all-MiniLM-L6-v2 sentence vectors, with category and color heads. Roles: CLIP-like score, FD "
              "features (CLS), conditioning tokens.")
POINT_WHAT = ("PointNet (shared MLP 64-128-256-512, max-pool, head 256-128) classifying the toyworld categories "
              "from unit-sphere-normalized points; the 128-d penultimate activations are the FD_PointNet features.")


def _command(config: EncoderTrainConfig, models: tuple[str, ...]) -> str:
    parts = [f"text3d train encoders --out DIR --seed {config.seed} --items {config.items} --steps {config.steps}",
             f"--point-steps {config.point_steps}"]
    if tuple(models) != ("image", "point"):
        parts.append(f"--models {','.join(models)}")
    return " ".join(parts)


def train_encoders(out: str | Path, config: EncoderTrainConfig, evaluate_n: int = 2400,
                   progress: bool | None = None, models: tuple[str, ...] = ("image", "point")) -> dict[str, Any]:
    """Train the encoders named in ``models`` into ``out/image-encoder`` and ``out/point-encoder``
    (a model not named is read from its folder in ``out``), evaluate both, write cards."""
    import torch

    from text3d.encoders.embedded import EmbeddedImageEncoder, EmbeddedPointEncoder
    from text3d.encoders.selfcheck import evaluate_encoders
    from text3d.errors import InputError
    from text3d.nn.checkpoint import load_folder, save_folder
    from text3d.train.data import DataSpec, build_data
    from text3d.train.encoders import train_image_encoder, train_point_encoder

    unknown = set(models) - {"image", "point"}
    if unknown or not models:
        raise InputError(f"--models {','.join(models)}: choose from image, point")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, folder in (("image", "image-encoder"), ("point", "point-encoder")):
        if name not in models and not (out / folder / "config.json").exists():
            raise InputError(f"{out / folder}: no trained {name} encoder to reuse; train it too (--models image,point)")
    start = time.perf_counter()
    spec = DataSpec(n=config.items, views=config.views, points_every=config.point_items_every)
    data = build_data(spec, out / "cache", workers=config.workers, progress=progress)
    data_seconds = time.perf_counter() - start
    data_info = {"items": config.items, "images": int(len(data["images"])), "points": int(len(data.get("points", [])))}
    common = {"config": asdict(config), "data": data_info, "data_seconds": round(data_seconds, 1),
              "torch": torch.__version__, "hardware": platform.processor() or platform.machine(),
              "command": _command(config, models)}
    trainings: dict[str, dict[str, Any]] = {}
    with (out / "train_log.jsonl").open("a") as log_file:
        log_file.write(json.dumps({"event": "data", "seconds": round(data_seconds, 1), "items": config.items}) + "\n")
        if "image" in models:
            t0 = time.perf_counter()
            image_model = train_image_encoder(data, config, out, log_file, progress)
            trainings["image"] = {**common, "model": "image", "seconds": round(time.perf_counter() - t0, 1)}
        else:
            image_model = EmbeddedImageEncoder.from_pretrained(out / "image-encoder", config.device).model
            trainings["image"] = {**common, "model": "image", "seconds": 0.0,
                                  **load_folder(out / "image-encoder")[1].get("training", {})}
        if "point" in models:
            t0 = time.perf_counter()
            point_model = train_point_encoder(data, config, log_file, progress)
            trainings["point"] = {**common, "model": "point", "seconds": round(time.perf_counter() - t0, 1)}
        else:
            point_model = EmbeddedPointEncoder.from_pretrained(out / "point-encoder", config.device).model
            trainings["point"] = {**common, "model": "point", "seconds": 0.0,
                                  **load_folder(out / "point-encoder")[1].get("training", {})}
    image_encoder = EmbeddedImageEncoder(image_model, image_model.vit.pos.device)
    point_encoder = EmbeddedPointEncoder(point_model, next(point_model.parameters()).device, points=config.point_sample)
    quality = evaluate_encoders(n=evaluate_n, image_encoder=image_encoder, point_encoder=point_encoder,
                                progress=progress) if evaluate_n else {}
    image_quality = {k: v for k, v in quality.items() if not k.startswith("point")}
    point_quality = {k: v for k, v in quality.items() if k.startswith("point") or k in ("seed", "n")}
    image_params = sum(p.numel() for p in image_model.parameters())
    point_params = sum(p.numel() for p in point_model.parameters())
    save_folder(out / "image-encoder", {k: v.half() for k, v in image_model.state_dict().items()},
                {"model": image_model.config.to_dict(), "training": trainings["image"], "quality": image_quality},
                _card("text3d embedded image encoder", IMAGE_WHAT, trainings["image"], image_quality, image_params))
    save_folder(out / "point-encoder", point_model.state_dict(),
                {"model": point_model.config.to_dict(), "points": config.point_sample,
                 "training": trainings["point"], "quality": point_quality},
                _card("text3d embedded point encoder", POINT_WHAT, trainings["point"], point_quality, point_params))
    seconds = round(time.perf_counter() - start, 1)
    return {"seconds": seconds, **quality}
