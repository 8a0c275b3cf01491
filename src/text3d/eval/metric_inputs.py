"""What the metrics read: the features of one extractor, bundled (:class:`MetricInputs`), and
the names of those inputs (:class:`Input`) that a registry entry declares.

Arrays are the extractor's float32 features; one row per view, point cloud or text.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

import numpy as np

from text3d.eval import metrics as M

log = logging.getLogger(__name__)

RETRIEVAL_KS = (1, 5, 10)


class Input(str, Enum):
    """What a metric reads. Features come from one extractor; the reference inputs exist only
    when the evaluation has a reference run."""

    VIEWS = "views"
    """Per generated asset, the (V, D) features of its FD/KD views (``EvalOptions.views``)."""
    REFERENCE_VIEWS = "reference_views"
    """(N·V, D): the features of all views of all reference assets, pooled."""
    POINTS = "points"
    """(N, D): one feature row per generated point cloud."""
    REFERENCE_POINTS = "reference_points"
    """(N_ref, D): one feature row per reference point cloud."""
    CLIP_VIEWS = "clip_views"
    """Per generated asset, the (V, D) joint-space features of its CLIP views."""
    PROMPTS = "prompts"
    """(N, D) joint-space features of each item's prompt, and the prompts."""
    CAPTIONS = "captions"
    """Joint-space features of the captions, by item index (items without one are absent)."""
    TIMINGS = "timings"
    """Seconds per stage of each item (meta.json ``timings_s``); needs no extractor."""

    @property
    def capability(self) -> str | None:
        """What an extractor must offer to give this input: image, points, joint, or None."""
        return _CAPABILITY[self]

    @property
    def reference(self) -> bool:
        """True for inputs read from the reference run."""
        return self in (Input.REFERENCE_VIEWS, Input.REFERENCE_POINTS)


_CAPABILITY: dict[Input, str | None] = {
    Input.VIEWS: "image", Input.REFERENCE_VIEWS: "image", Input.POINTS: "points", Input.REFERENCE_POINTS: "points",
    Input.CLIP_VIEWS: "joint", Input.PROMPTS: "joint", Input.CAPTIONS: "joint", Input.TIMINGS: None}


@dataclass(frozen=True, eq=False)
class MetricInputs:
    """The inputs of the metrics computed with one extractor (or with none: ``extractor`` None).

    Only the inputs some planned metric needs are filled. Quantities that several metrics
    share (the KD subsets, the per-asset FD, the CLIP scores, R@K) are computed once.
    """

    extractor: str | None
    prompt_texts: tuple[str, ...]
    views: tuple[np.ndarray, ...] = ()
    reference_views: np.ndarray | None = None
    points: np.ndarray | None = None
    reference_points: np.ndarray | None = None
    clip_views: tuple[np.ndarray, ...] = ()
    prompts: np.ndarray | None = None
    captions: Mapping[int, np.ndarray] = field(default_factory=dict)
    timings: tuple[Mapping[str, float], ...] = ()
    kd_subsets: int = 100
    kd_subset_size: int = 1000
    seed: int = 0

    @cached_property
    def pooled_views(self) -> np.ndarray:
        """(N·V, D): the generated assets' view features, pooled."""
        return np.concatenate(self.views)

    @cached_property
    def kernel_distance(self) -> M.KernelDistance:
        """KD of the pooled views against the reference views over the seeded subsets."""
        return M.kernel_distance(self.pooled_views, self.reference_views, self.kd_subsets, self.kd_subset_size,
                                 self.seed)

    @cached_property
    def per_asset_fd(self) -> np.ndarray:
        """(N,): each asset's views against the whole reference set (:func:`metrics.per_asset_fd`)."""
        return M.per_asset_fd(list(self.views), self.reference_views)

    def _clip_scores(self, text: np.ndarray, index: int) -> float:
        views = self.clip_views[index]
        return float(np.mean(M.clip_score(views, np.repeat(text[None], len(views), 0))))

    @cached_property
    def clip_user(self) -> tuple[float, ...]:
        """Per asset: 100·cos between each CLIP view and the prompt, averaged over views."""
        return tuple(self._clip_scores(self.prompts[i], i) for i in range(len(self.clip_views)))

    @cached_property
    def clip_aug(self) -> dict[int, float]:
        """Per captioned asset (by index): 100·cos between each CLIP view and the caption, averaged."""
        return {i: self._clip_scores(feature, i) for i, feature in self.captions.items()}

    @cached_property
    def recall(self) -> dict[int, float] | None:
        """{K: share of assets whose own prompt is among the K most similar of the run's distinct
        prompts} for K in ``RETRIEVAL_KS``, by the cosine of the asset's view-averaged unit image
        embeddings; None with fewer than 2 distinct prompts (every asset would rank first)."""
        prompts = list(self.prompt_texts)
        distinct = list(dict.fromkeys(prompts))
        if len(distinct) < 2:
            log.warning("R@K is undefined for a run with %d distinct prompt(s); reported as null", len(distinct))
            return None
        truth = np.array([distinct.index(p) for p in prompts])
        distinct_features = self.prompts[[prompts.index(p) for p in distinct]]
        embeddings = np.stack([(f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), M.COSINE_EPS)).mean(0)
                               for f in self.clip_views])
        return M.r_precision(embeddings, distinct_features, truth, RETRIEVAL_KS)
