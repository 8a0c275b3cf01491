"""Batch padding shared by the feature extractors and the evaluation's feature cache."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

MIN_BATCH = 16
"""Fewest images passed to an image encoder at once (see :func:`padded_batch`)."""


def padded_batch(images: Sequence[T]) -> list[T]:
    """``images`` repeated cyclically to a multiple of 4, at least ``MIN_BATCH`` (empty stays empty).

    On a CPU the BLAS picks other kernels for matrices of few rows (here: under 12, or not a
    multiple of 4), whose sums round differently; padding gives every image the features it
    gets in a full batch, whatever else its batch holds.
    """
    target = max(MIN_BATCH, -(-len(images) // 4) * 4) if images else 0
    return list(images) + [images[i % len(images)] for i in range(target - len(images))]
