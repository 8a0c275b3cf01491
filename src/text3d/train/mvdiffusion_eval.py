"""The multi-view teacher measured by itself: does the embedded image encoder recognize its samples?

For N held-out prompts, the model samples 4 views (RGB channels) at the true renders' cameras. The
embedded image encoder (64-px ViT, :mod:`text3d.encoders.embedded`; both the samples and the
true renders go through the same bilinear upsampling from S² to 64²) reads every view:

* category accuracy: argmax of the category head's logits, averaged over the 4 views, is the
  prompt's category (chance 1/45); the same figure of the true renders is the ceiling;
* R@1: the sample's embedding (mean of its views' unit joint-space embeddings) is nearer (cosine)
  to the true renders of its own prompt than to those of the N − 1 other prompts (chance 1/N).
"""

from __future__ import annotations

import numpy as np
import torch

from text3d.data.toyworld.vocabulary import CATEGORY_NAMES
from text3d.encoders.embedded import EmbeddedImageEncoder
from text3d.nn.teachers.base import Teacher
from text3d.nn.vit import preprocess_images


def rgb_uint8(views: np.ndarray | torch.Tensor) -> np.ndarray:
    """Views (N, V, C ≥ 3, S, S) in [−1, 1] → RGB images (N, V, S, S, 3) uint8."""
    x = torch.as_tensor(views)[:, :, :3].float().clamp(-1, 1)
    return ((x + 1) * 127.5).round().to(torch.uint8).permute(0, 1, 3, 4, 2).numpy()


def encode_objects(encoder: EmbeddedImageEncoder, images: np.ndarray,
                   batch: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """(category logits (N, 45) averaged over views, unit embeddings (N, 256) of the mean view embedding)."""
    n, v = images.shape[:2]
    flat = list(images.reshape(n * v, *images.shape[2:]))
    logits, embeddings = [], []
    with torch.inference_mode():
        for start in range(0, len(flat), batch):
            x = preprocess_images(flat[start:start + batch], encoder.config.image_size, encoder.device)
            tokens, emb = encoder.model.encode_image(x)
            logits.append(encoder.model.category_head(tokens[:, 0]).float().cpu())
            embeddings.append(emb.float().cpu())
    logit = torch.cat(logits).view(n, v, -1).mean(1)
    emb = torch.nn.functional.normalize(torch.cat(embeddings).view(n, v, -1).mean(1), dim=-1)
    return logit.numpy(), emb.numpy()


def recognition(encoder: EmbeddedImageEncoder, samples: np.ndarray, truth: np.ndarray,
                categories: list[str]) -> dict[str, float]:
    """Category accuracy and R@1 of sampled views (N, V, S, S, 3) against the true renders (same shape)."""
    labels = np.array([CATEGORY_NAMES.index(c) for c in categories])
    sample_logits, sample_emb = encode_objects(encoder, samples)
    truth_logits, truth_emb = encode_objects(encoder, truth)
    similarity = sample_emb @ truth_emb.T  # (N samples, N true renders)
    n = len(labels)
    return {"n": n,
            "category_accuracy": round(float((sample_logits.argmax(1) == labels).mean()), 4),
            "category_accuracy_true_renders": round(float((truth_logits.argmax(1) == labels).mean()), 4),
            "category_chance": round(1 / len(set(CATEGORY_NAMES)), 4),
            "r_at_1": round(float((similarity.argmax(1) == np.arange(n)).mean()), 4),
            "r_at_1_chance": round(1 / n, 4)}


def silhouette_agreement(views: np.ndarray | torch.Tensor) -> float:
    """Mean IoU of the RGB silhouette (any channel darker than 0.9 on the [−1, 1] scale: not white)
    and the depth silhouette (depth < 0.9: not the far background) over all views (N, V, 7, S, S):
    whether the sampled normals/depth describe the same object as the sampled colors."""
    x = torch.as_tensor(views).float()
    rgb = (x[:, :, :3] < 0.9).any(2)
    geometry = x[:, :, 6] < 0.9
    union = (rgb | geometry).sum((-1, -2)).clamp_min(1)
    return round(float(((rgb & geometry).sum((-1, -2)) / union).mean()), 4)


CHANNEL_GROUPS = {"rgb": slice(0, 3), "normal": slice(3, 6), "depth": slice(6, 7)}
"""The teacher's channel groups in a view (V, 7, S, S): RichDreamer-style normals and depth beside RGB."""


def target_error(teacher: Teacher, views: torch.Tensor, cameras: torch.Tensor, prompts: list[str], t: float,
                 guidance: float, draws: int = 4, seed: int = 0, guidance_rescale: float = 0.0) -> dict[str, float]:
    """How far the teacher's guided estimate x̂₀ — the target of rendering distillation — lies from the
    truth, per channel group g: FVU_g = E_ε ‖x̂₀ − x₀‖²_g / ‖x₀ − x̄₀‖²_g, with x_t = add_noise(x₀, ε, t),
    ε ~ N(0, I) (``draws`` seeded draws) and x̄₀ the per-pixel mean of the N items' views (N, V, 7, S, S).
    0: the truth; 1: as far as the mean image; above 1: the guidance overshoots past it."""
    x0 = views.float()
    tt = torch.full((len(x0),), float(t))
    error = {g: 0.0 for g in CHANNEL_GROUPS}
    for draw in range(draws):
        noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed + draw))
        with torch.no_grad():
            estimate = teacher.denoise(teacher.add_noise(x0, noise, tt), tt, prompts, cameras, guidance=guidance,
                                           guidance_rescale=guidance_rescale)
        for g, s in CHANNEL_GROUPS.items():
            error[g] += float((estimate[:, :, s] - x0[:, :, s]).square().mean()) / draws
    mean = x0.mean(0, keepdim=True)
    return {g: error[g] / max(float((x0[:, :, s] - mean[:, :, s]).square().mean()), 1e-12)
            for g, s in CHANNEL_GROUPS.items()}
