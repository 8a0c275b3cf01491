"""``text3d train encoders``: the embedded image encoder (CLIP-like) and point encoder.

Image encoder: a ViT on 64-px renders trained with a multi-positive InfoNCE against the
text projection of frozen all-MiniLM-L6-v2 sentence vectors (short prompts, captions,
"a <noun>" and "a <color> object" templates), plus category and color heads on CLS.
A text is a positive for every image it describes: its own item, every item of its
category (noun templates), of its color (color templates), or of its category and color
(basic prompts). Point encoder: PointNet classifying the 45 categories from depth20 points.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import IO

import numpy as np
import torch
import torch.nn.functional as F

from text3d.data.toyworld.vocabulary import CATEGORIES, CATEGORY_NAMES, COLOR_NAMES
from text3d.device import resolve_device
from text3d.encoders.minilm import shared_text_encoder
from text3d.nn.pointnet import PointNet, PointNetConfig
from text3d.nn.vit import PIXEL_MEAN, PIXEL_STD, ImageTextModel, ViTConfig
from text3d.progress import track
from text3d.render.points import normalize_to_unit_sphere
from text3d.train.config import EncoderTrainConfig
from text3d.train.data import TrainingData
from text3d.train.loop import LossLog, adamw_decay_groups, cosine_lr, optimizer_step, set_lr

log = logging.getLogger(__name__)

COLOR_TEMPLATES = ("a {} object", "something {}", "a {} thing")
"""Texts that name only a color: positives for every item of that color."""
CATEGORY_TEMPLATE_SHARE = 0.12
"""Share of image-encoder batch texts drawn from "a <noun>" templates."""
COLOR_TEMPLATE_SHARE = 0.10
"""Share drawn from :data:`COLOR_TEMPLATES` (the rest are the item's own texts)."""
POINT_LR, POINT_WARMUP, POINT_WEIGHT_DECAY = 2e-3, 50, 1e-4
"""Point-encoder AdamW peak learning rate, warm-up steps and weight decay."""


@dataclass(frozen=True)
class TextTable:
    """The T unique training texts of the image encoder, with what each describes."""

    texts: list[str]  # (T,)
    sig: np.ndarray  # (T, 3) int64: category, color, item of the images it describes; -1 = any
    item_texts: list[list[int]]  # per item, the ids of its own texts
    category_templates: dict[int, list[int]]  # category → ids of "a <noun>"
    color_templates: dict[int, list[int]]  # color → ids of the color-only templates


def text_table(data: TrainingData, noun_forms: dict[int, list[str]]) -> TextTable:
    """Unique texts with their signatures (category, color, item; -1 = any)."""
    texts: list[str] = []
    sig: list[tuple[int, int, int]] = []
    item_texts: list[list[int]] = []
    for item, pool in enumerate(data.texts):
        ids = []
        for k, text in enumerate(pool):
            ids.append(len(texts))
            texts.append(text)
            basic = k == 0 and not data.grouped[item]
            sig.append((int(data.category[item]), int(data.color[item]), -1) if basic else (-1, -1, item))
        item_texts.append(ids)
    category_templates: dict[int, list[int]] = {}
    for cat, forms in noun_forms.items():
        category_templates[cat] = []
        for form in forms:
            category_templates[cat].append(len(texts))
            texts.append(f"a {form}")
            sig.append((cat, -1, -1))
    color_templates: dict[int, list[int]] = {}
    for c, name in enumerate(COLOR_NAMES):
        color_templates[c] = []
        for template in COLOR_TEMPLATES:
            color_templates[c].append(len(texts))
            texts.append(template.format(name))
            sig.append((-1, c, -1))
    return TextTable(texts, np.array(sig, np.int64), item_texts, category_templates, color_templates)


def positives(image_cat: torch.Tensor, image_color: torch.Tensor, image_item: torch.Tensor,
              text_sig: torch.Tensor) -> torch.Tensor:
    """P[i, j] = text j describes image i: every set signature field matches (−1 = any)."""
    cat, color, item = text_sig[:, 0], text_sig[:, 1], text_sig[:, 2]
    ok = (cat[None] < 0) | (cat[None] == image_cat[:, None])
    ok &= (color[None] < 0) | (color[None] == image_color[:, None])
    ok &= (item[None] < 0) | (item[None] == image_item[:, None])
    return ok


def multi_positive_nce(logits: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    """Mean over rows and columns of −log(Σ_{j∈P} e^{l_ij} / Σ_j e^{l_ij})."""
    neg_inf = torch.finfo(logits.dtype).min
    rows = torch.logsumexp(logits, 1) - torch.logsumexp(logits.masked_fill(~pos, neg_inf), 1)
    cols = torch.logsumexp(logits, 0) - torch.logsumexp(logits.masked_fill(~pos, neg_inf), 0)
    return 0.5 * (rows.mean() + cols.mean())


def _batch_texts(table: TextTable, data: TrainingData, items: np.ndarray, rng: np.random.Generator) -> list[int]:
    """One text id per image: a category template, a color template or one of the item's own texts."""
    text_ids = []
    for item in items:
        r = rng.random()
        if r < CATEGORY_TEMPLATE_SHARE:
            pool = table.category_templates[int(data.category[item])]
        elif r < CATEGORY_TEMPLATE_SHARE + COLOR_TEMPLATE_SHARE:
            pool = table.color_templates[int(data.color[item])]
        else:
            pool = table.item_texts[item]
        text_ids.append(pool[int(rng.integers(len(pool)))])
    return text_ids


def train_image_encoder(data: TrainingData, config: EncoderTrainConfig, log_file: IO[str],
                        progress: bool | None = None) -> ImageTextModel:
    """Train the CLIP-like image encoder; returns the trained model (eval mode)."""
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    noun_forms = {i: list(CATEGORIES[name].words) for i, name in enumerate(CATEGORY_NAMES)}
    table = text_table(data, noun_forms)
    start = time.perf_counter()
    vectors = torch.from_numpy(shared_text_encoder(config.device).sentence_vectors(table.texts))
    log.info("encoded %d texts in %.1f s", len(table.texts), time.perf_counter() - start)
    sig = torch.from_numpy(table.sig)
    images = torch.from_numpy(data.images)  # (N·V, S, S, 3) uint8
    categories = torch.from_numpy(data.category)
    colors = torch.from_numpy(data.color)
    grouped = torch.from_numpy(data.grouped)
    model_config = ViTConfig(image_size=images.shape[1], categories=len(CATEGORY_NAMES), colors=len(COLOR_NAMES))
    model = ImageTextModel(model_config).to(device)
    optimizer = adamw_decay_groups(model, config.lr, config.weight_decay, betas=(0.9, 0.98))
    use_bf16 = device.type in ("cpu", "cuda")
    losses = LossLog(log_file, "image-encoder", config.steps)
    model.train()
    for step in track(range(config.steps), description="image encoder", enabled=progress):
        set_lr(optimizer, cosine_lr(step, config.steps, config.warmup, config.lr))
        idx = rng.integers(len(images), size=config.batch)
        items = data.image_item[idx]
        text_ids_t = torch.tensor(_batch_texts(table, data, items, rng))
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
        optimizer_step(optimizer, loss, model)
        if losses.due(step):
            losses.write(step, loss=round(loss.item(), 4), nce=round(nce.item(), 4), heads=round(head.item(), 4),
                         lr=round(optimizer.param_groups[0]["lr"], 7))
    return model.eval()


def augment_images(batch: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """uint8 (B, S, S, 3) → normalized float (B, 3, S, S) with random shifts, zoom and brightness."""
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


def train_point_encoder(data: TrainingData, config: EncoderTrainConfig, log_file: IO[str],
                        progress: bool | None = None) -> PointNet:
    """Train PointNet on the items that have point clouds; returns the model (eval mode)."""
    device = resolve_device(config.device)
    torch.manual_seed(config.seed + 1)
    rng = np.random.default_rng(config.seed + 1)
    keep = ~data.grouped[data.point_item]
    clouds = np.stack([normalize_to_unit_sphere(p.astype(np.float32)) for p in data.points[keep]])
    labels = torch.from_numpy(data.category[data.point_item[keep]])
    model = PointNet(PointNetConfig(classes=len(CATEGORY_NAMES))).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=POINT_LR, weight_decay=POINT_WEIGHT_DECAY)
    losses = LossLog(log_file, "point-encoder", config.point_steps)
    model.train()
    for step in track(range(config.point_steps), description="point encoder", enabled=progress):
        set_lr(optimizer, cosine_lr(step, config.point_steps, POINT_WARMUP, POINT_LR))
        idx = rng.integers(len(clouds), size=config.point_batch)
        choice = rng.random((config.point_batch, clouds.shape[1])).argsort(axis=1)[:, :config.point_sample]
        pts = np.take_along_axis(clouds[idx], choice[..., None], axis=1)
        pts = pts * rng.uniform(0.9, 1.1, (config.point_batch, 1, 3)) + rng.normal(0, 0.01, pts.shape)
        _, logits = model(torch.from_numpy(pts.astype(np.float32)).to(device))
        loss = F.cross_entropy(logits, labels[idx].to(device), label_smoothing=0.1)
        optimizer_step(optimizer, loss)
        if losses.due(step):
            losses.write(step, loss=round(loss.item(), 4))
    return model.eval()
