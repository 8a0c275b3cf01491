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


def _card(title: str, what: str, config: EncoderTrainConfig, data_info: dict[str, Any], seconds: float,
          quality: dict[str, Any], params: int, extra: str = "") -> str:
    rows = "\n".join(f"| `{k}` | {v} |" for k, v in quality.items())
    return f"""# {title}

{what}

* Parameters: {params:,}
* Training data: toyworld training seeds (base seed 0), {data_info['items']:,} items (categories round-robin),
  {data_info['images']:,} renders ({config.views} random views per item: yaw 0–360°, pitch 10–45°, r 2, FoV 40°,
  rendered at 128² and area-downsampled to 64²; white or black background; 25 % of items shown as their 32³
  voxel surface), {data_info['points']:,} point clouds (depth20 → 4,000 points).
* Training: seed {config.seed}, {config.steps} image-encoder steps at batch {config.batch}, {config.point_steps}
  point-encoder steps at batch {config.point_batch}; AdamW, cosine schedule; bf16 autocast.
* Hardware: {platform.processor() or platform.machine()}, wall time {seconds / 60:.1f} min (whole command).
* Reproduce: `text3d train encoders --out DIR --seed {config.seed} --steps {config.steps}`
{extra}
## Measured quality (held-out toyworld, `text3d encoders evaluate --seed {quality.get('seed')} --n {quality.get('n')}`)

| figure | value |
|---|---|
{rows}
"""


def train_encoders(out: str | Path, config: EncoderTrainConfig, evaluate_n: int = 1200,
                   progress: bool | None = None) -> dict[str, Any]:
    """Train both encoders into ``out/image-encoder`` and ``out/point-encoder``; returns the figures."""
    import torch

    from text3d.encoders.embedded import EmbeddedImageEncoder, EmbeddedPointEncoder
    from text3d.encoders.selfcheck import evaluate_encoders
    from text3d.nn.checkpoint import save_folder
    from text3d.train.data import DataSpec, build_data
    from text3d.train.encoders import train_image_encoder, train_point_encoder

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    spec = DataSpec(n=config.items, views=config.views, points_every=config.point_items_every)
    data = build_data(spec, out / "cache", workers=config.workers, progress=progress)
    data_seconds = time.perf_counter() - start
    log.info("training data ready in %.1f s", data_seconds)
    with (out / "train_log.jsonl").open("a") as log_file:
        log_file.write(json.dumps({"event": "data", "seconds": round(data_seconds, 1), "items": config.items}) + "\n")
        image_model = train_image_encoder(data, config, out, log_file, progress)
        point_model = train_point_encoder(data, config, log_file, progress)
    image_encoder = EmbeddedImageEncoder(image_model, image_model.vit.pos.device)
    point_encoder = EmbeddedPointEncoder(point_model, next(point_model.parameters()).device, points=config.point_sample)
    quality = evaluate_encoders(n=evaluate_n, image_encoder=image_encoder, point_encoder=point_encoder,
                                progress=progress) if evaluate_n else {}
    seconds = time.perf_counter() - start
    data_info = {"items": config.items, "images": int(len(data["images"])), "points": int(len(data.get("points", [])))}
    train_info = {"config": asdict(config), "data": data_info, "seconds": round(seconds, 1),
                  "torch": torch.__version__}
    image_params = sum(p.numel() for p in image_model.parameters())
    point_params = sum(p.numel() for p in point_model.parameters())
    image_quality = {k: v for k, v in quality.items() if not k.startswith("point")}
    save_folder(out / "image-encoder", {k: v.half() for k, v in image_model.state_dict().items()},
                {"model": image_model.config.to_dict(), "training": train_info, "quality": image_quality},
                _card("text3d embedded image encoder", "A ViT (64 px, patch 8, width 192, depth 6, CLS + 4 "
                      "registers) trained contrastively against all-MiniLM-L6-v2 sentence vectors, with category "
                      "and color heads. Roles: CLIP-like score, FD features (CLS), conditioning tokens.",
                      config, data_info, seconds, image_quality, image_params))
    point_quality = {k: v for k, v in quality.items() if k.startswith("point") or k in ("seed", "n")}
    save_folder(out / "point-encoder", point_model.state_dict(),
                {"model": point_model.config.to_dict(), "points": config.point_sample, "training": train_info,
                 "quality": point_quality},
                _card("text3d embedded point encoder", "PointNet (shared MLP 64-128-256-512, max-pool, head 256-128) "
                      "classifying the toyworld categories from unit-sphere-normalized points; the 128-d "
                      "penultimate activations are the FD_PointNet features.", config, data_info, seconds,
                      point_quality, point_params))
    return {"seconds": round(seconds, 1), **quality}
