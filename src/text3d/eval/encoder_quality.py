"""The encoders study (``text3d encoders evaluate``): the embedded encoders on held-out toyworld.

N held-out instances (seeds ≥ 1,000,000, never trained on) are rendered once each at
128² (clip8 ring: yaw 45°·(i mod 8), pitch 30°, white background). The seeds' range is part
of the figures (``seed_range``, ``seeds``): the development range [1,000,000, 1,900,000) is for
choosing settings, the test range [1,900,000, 2,000,000) gives the figures to report; a run
never mixes them. Figures:

* ``category_r_at_1`` — argmax over the 45 prompts "a <noun>" equals the category
  (``…_paraphrase``: the same with the range's first held-out noun, "a yacht" on development
  seeds, "a catamaran" on test seeds);
* ``color_accuracy`` — argmax over the 12 prompts "a <color> object" equals the color;
* ``text_to_image_r_at_10`` — each of the first 1,000 instances' short prompt retrieves its
  render among the 1,000 renders within 10 (``…_paraphrase``: its paraphrase prompt;
  ``…_with_paraphrases``: both query sets pooled, the issue's "paraphrase prompts included");
* ``point_accuracy`` — PointNet category accuracy on depth20 → 4,000-point clouds;
* ``fd_ratio`` — FD(A, B) / FD(A, S) on CLS features, A and B two disjoint halves of the
  real renders, S as many renders of other instances from only the even-indexed half of
  the categories; ``fd_ratio_untrained`` is the same for a randomly initialized encoder.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch

from text3d.data.toyworld.instance import HELDOUT_SEEDS, describe_seeds, item_spec, make_instance
from text3d.data.toyworld.vocabulary import (
    CATEGORIES,
    CATEGORY_NAMES,
    COLOR_NAMES,
    built_categories,
    category_index,
    color_index,
)
from text3d.encoders.embedded import EmbeddedImageEncoder, EmbeddedPointEncoder
from text3d.errors import InputError
from text3d.eval.metrics import frechet_distance, retrieval_recall
from text3d.limits import MIN_ENCODER_INSTANCES
from text3d.nn.vit import ImageTextModel
from text3d.progress import track
from text3d.render.cameras import Camera
from text3d.render.points import sample_surface_points
from text3d.render.renderer import render

log = logging.getLogger(__name__)


def _render_instances(specs: list[tuple[str, int]], with_points: bool, progress: bool | None = None
                      ) -> tuple[list[np.ndarray], list[Any], list[np.ndarray]]:
    images, instances, clouds = [], [], []
    for i, (category, seed) in enumerate(track(specs, description="render held-out", enabled=progress)):
        instance = make_instance(category, seed)
        asset = instance.scene().to_asset()
        cam = Camera(yaw=45.0 * (i % 8), pitch=30.0, resolution=128)
        images.append(render(asset, [cam], background="white").rgb[0])
        instances.append(instance)
        if with_points:
            clouds.append(sample_surface_points(asset, 4000, 96)["points"])
    return images, instances, clouds


def evaluate_encoders(seed: int = 1_000_000, n: int = 2400, image_encoder: EmbeddedImageEncoder | None = None,
                      point_encoder: EmbeddedPointEncoder | None = None, device: str | None = None, points: int = 450,
                      progress: bool | None = None) -> dict[str, Any]:
    """The quality figures of the embedded encoders on ``n`` held-out instances from ``seed``
    (development seeds to choose settings on, test seeds for the figures to report)."""
    if seed not in HELDOUT_SEEDS:
        where = (f"inside the training range [0, {HELDOUT_SEEDS.start:,})" if seed < HELDOUT_SEEDS.start
                 else f"past the held-out range (it ends at {HELDOUT_SEEDS.stop:,})")
        raise InputError(f"--seed {seed}: {where}; use a held-out seed in [{HELDOUT_SEEDS.start:,}, "
                         f"{HELDOUT_SEEDS.stop:,})")
    if n < MIN_ENCODER_INSTANCES:
        raise InputError(f"--n {n}: need at least {MIN_ENCODER_INSTANCES} instances (two per category)")
    programs = built_categories()
    per_round = len(programs)
    specs = [item_spec(i, seed, programs) for i in range(n)]
    half = n // 2
    shifted_programs = programs[::2]
    rounds = n // per_round + 1
    shift_specs = [item_spec(i, seed + rounds, shifted_programs) for i in range(half)]
    last = max(s for _, s in specs + shift_specs)
    if last >= HELDOUT_SEEDS.stop:
        raise InputError(f"seed {seed} with --n {n} runs past the held-out range")
    seeds = describe_seeds(seed, last)
    if "+" in seeds["range"]:
        raise InputError(f"{seeds['line']}: an evaluation's seeds must lie in one range; pick another --seed or --n")
    log.info("%s", seeds["line"])
    image_encoder = image_encoder or EmbeddedImageEncoder.from_pretrained(device=device)
    point_encoder = point_encoder or EmbeddedPointEncoder.from_pretrained(device=device)
    images, instances, _ = _render_instances(specs, with_points=False, progress=progress)
    cls, emb = image_encoder.features(images)
    categories = np.array([category_index(i.category) for i in instances])
    colors = np.array([color_index(i.attributes["color"]) for i in instances])
    single = np.array([i.partner is None for i in instances])

    nouns = image_encoder.text_embeddings([f"a {CATEGORIES[c].noun}" for c in CATEGORY_NAMES])
    held_out = {c: CATEGORIES[c].test_paraphrases if seeds["range"] == "test" else CATEGORIES[c].paraphrases
                for c in CATEGORY_NAMES}
    para = image_encoder.text_embeddings([f"a {held_out[c][0]}" for c in CATEGORY_NAMES])
    color_text = image_encoder.text_embeddings([f"a {c} object" for c in COLOR_NAMES])
    result: dict[str, Any] = {"seed": seed, "n": n, "seed_range": seeds["range"], "seeds": seeds["line"],
                              "n_single": int(single.sum())}
    result["category_r_at_1"] = float(np.mean((emb @ nouns.T).argmax(1)[single] == categories[single]))
    result["category_r_at_1_paraphrase"] = float(np.mean((emb @ para.T).argmax(1)[single] == categories[single]))
    result["color_accuracy"] = float(np.mean((emb @ color_text.T).argmax(1)[single] == colors[single]))
    result["category_head_accuracy"] = float(np.mean(
        _head(image_encoder, images, "category")[single] == categories[single]))
    m = min(1000, n)
    prompts = image_encoder.text_embeddings([i.prompt for i in instances[:m]])
    paraphrases = image_encoder.text_embeddings([i.prompts["paraphrase"] for i in instances[:m]])
    truth = np.arange(m)
    result["text_to_image_r_at_10"] = float(retrieval_recall(prompts, emb[:m], truth, ks=(10,))[10])
    result["text_to_image_r_at_1"] = float(retrieval_recall(prompts, emb[:m], truth, ks=(1,))[1])
    result["text_to_image_r_at_10_paraphrase"] = float(retrieval_recall(paraphrases, emb[:m], truth, ks=(10,))[10])
    # the figure, "paraphrase prompts included": both query sets pooled (2m queries)
    result["text_to_image_r_at_10_with_paraphrases"] = float(retrieval_recall(
        np.concatenate([prompts, paraphrases]), emb[:m], np.concatenate([truth, truth]), ks=(10,))[10])

    k = min(points, n)
    _, _, clouds = _render_instances(specs[:k], with_points=True, progress=progress)
    _, logits = point_encoder.run(clouds)
    keep = single[:k]
    result["point_accuracy"] = float(np.mean(logits.argmax(1)[keep] == categories[:k][keep]))

    shift_images, _, _ = _render_instances(shift_specs, with_points=False, progress=progress)
    shift_cls, _ = image_encoder.features(shift_images)
    a, b = cls[:half], cls[half:2 * half]
    result["fd_real_real"] = frechet_distance(a, b)
    result["fd_real_shifted"] = frechet_distance(a, shift_cls)
    result["fd_ratio"] = result["fd_real_real"] / result["fd_real_shifted"]
    untrained = _untrained_like(image_encoder)
    ua, _ = untrained.features(images[:half])
    ub, _ = untrained.features(images[half:2 * half])
    us, _ = untrained.features(shift_images)
    result["fd_ratio_untrained"] = frechet_distance(ua, ub) / frechet_distance(ua, us)
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in result.items()}


def _head(encoder: EmbeddedImageEncoder, images: list[np.ndarray], which: str) -> np.ndarray:
    out = []
    with torch.inference_mode():
        for x in encoder._batches(images, 256):
            cls = encoder.model.vit(x)[:, 0]
            head = encoder.model.category_head if which == "category" else encoder.model.color_head
            out.append(head(cls).argmax(1).cpu().numpy())
    return np.concatenate(out)


def _untrained_like(encoder: EmbeddedImageEncoder) -> EmbeddedImageEncoder:
    """A randomly initialized encoder of the same shape (seed 0): the FD baseline."""
    torch.manual_seed(0)
    return EmbeddedImageEncoder(ImageTextModel(encoder.config).to(encoder.device), encoder.device)
