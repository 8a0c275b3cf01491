"""``text3d train encoders``: the embedded image encoder (CLIP-like) and point encoder.

Image encoder: a ViT on 64-px renders trained with a multi-positive InfoNCE against the
text projection of frozen all-MiniLM-L6-v2 sentence vectors (short prompts, captions,
"a <noun>" and "a <color> object" templates), plus category and color heads on CLS.
A text is a positive for every image it describes: its own item, every item of its
category (noun templates), of its color (color templates), or of its category and color
(basic prompts). Point encoder: PointNet classifying the 45 categories from depth20 points.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


@dataclass
class EncoderTrainConfig:
    """Hyper-parameters of ``text3d train encoders`` (all recorded in the model cards)."""

    seed: int = 0
    items: int = 12600
    views: int = 6
    steps: int = 2000
    batch: int = 128
    lr: float = 6e-4
    warmup: int = 150
    weight_decay: float = 0.05
    head_weight: float = 1.0
    point_items_every: int = 3
    point_steps: int = 1000
    point_batch: int = 32
    point_sample: int = 1024
    device: str | None = None
    workers: int = 0


# ----------------------------------------------------------------------------- texts
def text_table(data: dict[str, Any], noun_forms: dict[int, list[str]]) -> dict[str, Any]:
    """Unique texts with their signatures (category, color, item; -1 = any)."""
    from text3d.data.toyworld.vocabulary import COLOR_NAMES

    texts: list[str] = []
    sig: list[tuple[int, int, int]] = []
    item_texts: list[list[int]] = []
    for item, pool in enumerate(data["texts"]):
        ids = []
        for k, text in enumerate(pool):
            ids.append(len(texts))
            texts.append(text)
            basic = k == 0 and not data["grouped"][item]
            sig.append((int(data["category"][item]), int(data["color"][item]), -1) if basic else (-1, -1, item))
        item_texts.append(ids)
    category_templates = {}
    for cat, forms in noun_forms.items():
        category_templates[cat] = []
        for form in forms:
            category_templates[cat].append(len(texts))
            texts.append(f"a {form}")
            sig.append((cat, -1, -1))
    color_templates = {}
    for c, name in enumerate(COLOR_NAMES):
        color_templates[c] = []
        for template in ("a {} object", "something {}", "a {} thing"):
            color_templates[c].append(len(texts))
            texts.append(template.format(name))
            sig.append((-1, c, -1))
    return {"texts": texts, "sig": np.array(sig, np.int64), "item_texts": item_texts,
            "category_templates": category_templates, "color_templates": color_templates}


def positives(image_cat: "torch.Tensor", image_color: "torch.Tensor", image_item: "torch.Tensor",  # noqa: F821
              text_sig: "torch.Tensor") -> "torch.Tensor":  # noqa: F821
    """P[i, j] = text j describes image i: every set signature field matches (−1 = any)."""
    cat, color, item = text_sig[:, 0], text_sig[:, 1], text_sig[:, 2]
    ok = (cat[None] < 0) | (cat[None] == image_cat[:, None])
    ok &= (color[None] < 0) | (color[None] == image_color[:, None])
    ok &= (item[None] < 0) | (item[None] == image_item[:, None])
    return ok


def multi_positive_nce(logits: "torch.Tensor", pos: "torch.Tensor") -> "torch.Tensor":  # noqa: F821
    """Mean over rows and columns of −log(Σ_{j∈P} e^{l_ij} / Σ_j e^{l_ij})."""
    import torch

    neg_inf = torch.finfo(logits.dtype).min
    rows = torch.logsumexp(logits, 1) - torch.logsumexp(logits.masked_fill(~pos, neg_inf), 1)
    cols = torch.logsumexp(logits, 0) - torch.logsumexp(logits.masked_fill(~pos, neg_inf), 0)
    return 0.5 * (rows.mean() + cols.mean())


def cosine_lr(step: int, total: int, warmup: int, peak: float) -> float:
    """Linear warm-up to ``peak``, then cosine decay to 0."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


# ----------------------------------------------------------------------------- image encoder
def train_image_encoder(data: dict[str, Any], config: EncoderTrainConfig, out: Path, log_file,
                        progress: bool | None = None):
    """Train the CLIP-like image encoder; returns the trained model (eval mode)."""
    import torch
    import torch.nn.functional as F

    from text3d.data.toyworld.vocabulary import CATEGORIES, CATEGORY_NAMES, COLOR_NAMES
    from text3d.device import resolve_device
    from text3d.encoders.minilm import shared_text_encoder
    from text3d.nn.vit import ImageTextModel, ViTConfig
    from text3d.progress import track

    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    noun_forms = {i: list(CATEGORIES[name].words) for i, name in enumerate(CATEGORY_NAMES)}
    table = text_table(data, noun_forms)
    start = time.perf_counter()
    vectors = torch.from_numpy(shared_text_encoder(config.device).sentence_vectors(table["texts"]))
    log.info("encoded %d texts in %.1f s", len(table["texts"]), time.perf_counter() - start)
    sig = torch.from_numpy(table["sig"])
    images = torch.from_numpy(data["images"])  # (N, S, S, 3) uint8
    image_item = data["image_item"]
    categories = torch.from_numpy(data["category"])
    colors = torch.from_numpy(data["color"])
    grouped = torch.from_numpy(data["grouped"])
    model_config = ViTConfig(image_size=images.shape[1], categories=len(CATEGORY_NAMES), colors=len(COLOR_NAMES))
    model = ImageTextModel(model_config).to(device)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=config.lr, betas=(0.9, 0.98))
    use_bf16 = device.type in ("cpu", "cuda")
    model.train()
    for step in track(range(config.steps), description="image encoder", enabled=progress):
        for group in optimizer.param_groups:
            group["lr"] = cosine_lr(step, config.steps, config.warmup, config.lr)
        idx = rng.integers(len(images), size=config.batch)
        items = image_item[idx]
        text_ids = []
        for item in items:
            r = rng.random()
            if r < 0.12:
                pool = table["category_templates"][int(data["category"][item])]
            elif r < 0.22:
                pool = table["color_templates"][int(data["color"][item])]
            else:
                pool = table["item_texts"][item]
            text_ids.append(pool[int(rng.integers(len(pool)))])
        text_ids_t = torch.tensor(text_ids)
        batch = augment_images(images[idx], rng).to(device)
        items_t = torch.from_numpy(items)
        pos = positives(categories[items_t], colors[items_t], items_t, sig[text_ids_t]).to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            tokens, image_emb = model.encode_image(batch)
            text_emb = model.encode_text(vectors[text_ids_t].to(device))
            logits = model.logit_scale.exp().clamp(max=100) * image_emb.float() @ text_emb.float().T
            nce = multi_positive_nce(logits.float(), pos)
            single = ~grouped[items_t].to(device)
            cls = tokens[:, 0]
            head = F.cross_entropy(model.category_head(cls)[single].float(), categories[items_t].to(device)[single])
            head = head + F.cross_entropy(model.color_head(cls)[single].float(), colors[items_t].to(device)[single])
            loss = nce + config.head_weight * head
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % 25 == 0 or step == config.steps - 1:
            record = {"model": "image-encoder", "step": step, "loss": round(loss.item(), 4),
                      "nce": round(nce.item(), 4), "heads": round(head.item(), 4),
                      "lr": round(optimizer.param_groups[0]["lr"], 7), "time_s": round(time.perf_counter() - start, 1)}
            log_file.write(json.dumps(record) + "\n")
            log_file.flush()
    return model.eval()


def augment_images(batch: "torch.Tensor", rng: np.random.Generator) -> "torch.Tensor":  # noqa: F821
    """uint8 (B, S, S, 3) → normalized float (B, 3, S, S) with random shifts, zoom and brightness."""
    import torch
    import torch.nn.functional as F

    from text3d.nn.vit import PIXEL_MEAN, PIXEL_STD

    x = batch.permute(0, 3, 1, 2).float() / 255.0
    b, _, s, _ = x.shape
    scale = torch.from_numpy(rng.uniform(0.88, 1.08, b)).float()
    shift = torch.from_numpy(rng.uniform(-0.08, 0.08, (b, 2))).float()
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0 / scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    corner = x[:, :, :1, :1]  # the background color of each render
    x = F.grid_sample(x - corner, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + corner
    x = x * torch.from_numpy(rng.uniform(0.9, 1.1, (b, 1, 1, 1))).float()
    return (x.clamp(0, 1) - PIXEL_MEAN) / PIXEL_STD


# ----------------------------------------------------------------------------- point encoder
def train_point_encoder(data: dict[str, Any], config: EncoderTrainConfig, log_file, progress: bool | None = None):
    """Train PointNet on the items that have point clouds; returns the model (eval mode)."""
    import torch
    import torch.nn.functional as F

    from text3d.data.toyworld.vocabulary import CATEGORY_NAMES
    from text3d.device import resolve_device
    from text3d.nn.pointnet import PointNet, PointNetConfig
    from text3d.progress import track
    from text3d.render.points import normalize_to_unit_sphere

    device = resolve_device(config.device)
    torch.manual_seed(config.seed + 1)
    rng = np.random.default_rng(config.seed + 1)
    keep = ~data["grouped"][data["point_item"]]
    clouds = np.stack([normalize_to_unit_sphere(p.astype(np.float32)) for p in data["points"][keep]])
    labels = torch.from_numpy(data["category"][data["point_item"][keep]])
    model = PointNet(PointNetConfig(classes=len(CATEGORY_NAMES))).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    start = time.perf_counter()
    model.train()
    for step in track(range(config.point_steps), description="point encoder", enabled=progress):
        for group in optimizer.param_groups:
            group["lr"] = cosine_lr(step, config.point_steps, 50, 2e-3)
        idx = rng.integers(len(clouds), size=config.point_batch)
        choice = rng.random((config.point_batch, clouds.shape[1])).argsort(axis=1)[:, :config.point_sample]
        pts = np.take_along_axis(clouds[idx], choice[..., None], axis=1)
        pts = pts * rng.uniform(0.9, 1.1, (config.point_batch, 1, 3)) + rng.normal(0, 0.01, pts.shape)
        _, logits = model(torch.from_numpy(pts.astype(np.float32)).to(device))
        loss = F.cross_entropy(logits, labels[idx].to(device), label_smoothing=0.1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % 25 == 0 or step == config.point_steps - 1:
            log_file.write(json.dumps({"model": "point-encoder", "step": step, "loss": round(loss.item(), 4),
                                       "time_s": round(time.perf_counter() - start, 1)}) + "\n")
            log_file.flush()
    return model.eval()
