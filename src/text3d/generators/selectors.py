"""Candidate selectors of the embedded generator: how many samples to draw and which to keep.

Best-of-K is rejection sampling with a classifier that has not seen the generator's samples:
the embedded point encoder (a PointNet trained on toyworld surface points) gives each
candidate's surface points a probability of the category the prompt names, and the candidate
with the highest wins. It looks at shape only, and it is not the image encoder that
``text3d eval`` and ``text3d study`` judge with, so the selection is not tuned to the judge.
Measured on the generator study's prompts: see the generator's model card.

The selector is named in the generator's ``config.json``
(``{"name": "best_of_category", "args": {"candidates": 6}}``); ``candidates`` is also the
backend's constructor option (``create_generator("embedded", candidates=4)``, ``--candidates``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from text3d.assets.asset import Asset
from text3d.data.toyworld.vocabulary import CATEGORY_NAMES
from text3d.registry import Registry

if TYPE_CHECKING:
    from text3d.encoders.embedded import EmbeddedPointEncoder

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


def select_by_category(candidates: Sequence[Asset], category: str, point_encoder: Any) -> Selection:
    """The candidate whose surface points ``point_encoder`` (an :class:`EmbeddedPointEncoder`, or
    anything with its ``run(clouds) -> (features, logits)``) gives the highest softmax
    probability of ``category`` (0 for a candidate without surface); ties go to the earlier one."""
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


class Selector(Protocol):
    """What the embedded backend asks of a selector."""

    def count(self, category: str | None) -> int:
        """How many candidates to draw for a prompt asking for ``category`` (None: no single one)."""
        ...

    def __call__(self, candidates: Sequence[Asset], category: str) -> Selection:
        """The candidate to keep among ``count(category)`` meshes."""
        ...


selectors: Registry[Selector] = Registry("selector", ())
"""Selector name → class, called with the config's ``args`` (and the backend's ``candidates``) and
``device``, where the model that judges candidates runs."""


@selectors.register("best_of_category")
class BestOfCategory:
    """Draw ``candidates`` samples when the prompt names one category; keep the one the point
    encoder (``point_encoder``: weights folder, default the shipped one; loaded on first use)
    finds most like it. One sample otherwise, or with ``candidates=1``."""

    def __init__(self, candidates: int = 6, point_encoder: str | None = None, device: str | None = None) -> None:
        self.candidates = max(1, int(candidates))
        self.weights = point_encoder
        self.device = device
        self._encoder: "EmbeddedPointEncoder | None" = None

    def count(self, category: str | None) -> int:
        """``candidates`` for a prompt of one category, else 1."""
        return self.candidates if category else 1

    def encoder(self) -> "EmbeddedPointEncoder":
        """The point encoder that judges the candidates (loaded on first use)."""
        if self._encoder is None:
            # imports torch: backend discovery, on the path of every `text3d generate`, stays without it
            from text3d.encoders.embedded import EmbeddedPointEncoder

            self._encoder = EmbeddedPointEncoder.from_pretrained(self.weights, device=self.device)
        return self._encoder

    def __call__(self, candidates: Sequence[Asset], category: str) -> Selection:
        return select_by_category(candidates, category, self.encoder())
