"""Best-of-K sampling: draw K candidates, keep the one a 3D classifier finds most like the prompt.

Rejection sampling with a classifier that has not seen the generator's samples: the embedded
point encoder (a PointNet trained on toyworld surface points) gives each candidate's
surface points a probability of the category the prompt names, and the candidate with the
highest wins. It looks at shape only, and it is not the image encoder that
``text3d eval`` and ``text3d study`` judge with, so the selection is not tuned to the judge.

Measured on the generator study's 400 prompts (seed 1,000,000), see the generator's model card.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from text3d.assets.asset import Asset

log = logging.getLogger(__name__)

SURFACE_POINTS = 4000
"""Points sampled per candidate (area-weighted, fixed seed), as many as the encoder's data had."""


def surface_points(asset: Asset, count: int = SURFACE_POINTS, seed: int = 0) -> np.ndarray:
    """``count`` points (count, 3) on ``asset``'s triangles, area-weighted, seeded."""
    v = np.asarray(asset.vertices, np.float64)
    tri = v[np.asarray(asset.faces)]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    if not np.isfinite(area).all() or area.sum() <= 0:
        raise ValueError("asset has no surface area to sample")
    rng = np.random.default_rng(seed)
    faces = rng.choice(len(tri), size=count, p=area / area.sum())
    u, w = rng.random((2, count))
    flip = u + w > 1.0  # fold the unit square onto the triangle
    u, w = np.where(flip, 1.0 - u, u), np.where(flip, 1.0 - w, w)
    t = tri[faces]
    return (t[:, 0] + u[:, None] * (t[:, 1] - t[:, 0]) + w[:, None] * (t[:, 2] - t[:, 0])).astype(np.float32)


@dataclass(frozen=True)
class Selection:
    """Which candidate won and every candidate's probability of the category."""

    index: int
    category: str
    probabilities: tuple[float, ...]


def select_by_category(candidates: Sequence[Asset], category: str, point_encoder) -> Selection:
    """The candidate whose surface points ``point_encoder`` (an
    :class:`~text3d.encoders.embedded.EmbeddedPointEncoder`) gives the highest softmax
    probability of ``category`` (0 for a candidate without surface); ties go to the earlier one."""
    from text3d.data.toyworld.vocabulary import CATEGORY_NAMES

    column = CATEGORY_NAMES.index(category)
    sampled = [i for i, asset in enumerate(candidates) if _has_area(asset)]  # a degenerate sample scores 0
    scores = [0.0] * len(candidates)
    if sampled:
        _, logits = point_encoder.run([surface_points(candidates[i]) for i in sampled])
        weights = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities = weights / weights.sum(axis=1, keepdims=True)
        for i, p in zip(sampled, probabilities[:, column]):
            scores[i] = float(p)
    return Selection(int(np.argmax(scores)), category, tuple(scores))


def _has_area(asset: Asset) -> bool:
    return asset.n_faces > 0 and bool(np.ptp(asset.vertices, axis=0).max() > 0)
