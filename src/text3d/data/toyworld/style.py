"""What a category program receives: seeded randomness plus the instance's attributes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from text3d.data.toyworld.attributes import COLOR_NAMES

T = TypeVar("T")

NEUTRALS = ("white", "black", "gray", "brown")


@dataclass
class Style:
    """Attributes of one instance, chosen before its category program runs.

    ``main`` colors the parts a prompt's color refers to; ``accent`` is a second palette
    color for details; ``shape`` is a proportion word the category supports, or None.
    Programs record counts and optional parts in ``facts`` (they go into metadata and text).
    """

    rng: np.random.Generator
    main: str
    accent: str
    material: str
    shape: str | None
    size: str
    facts: dict[str, Any] = field(default_factory=dict)
    requested: dict[str, int] = field(default_factory=dict)

    def uniform(self, low: float, high: float) -> float:
        return float(self.rng.uniform(low, high))

    def integer(self, low: int, high: int) -> int:
        """Uniform integer in [low, high] (both included)."""
        return int(self.rng.integers(low, high + 1))

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def choice(self, options: Sequence[T]) -> T:
        return options[int(self.rng.integers(len(options)))]

    def other_color(self, *avoid: str, neutral: bool = False) -> str:
        """A palette color different from ``avoid`` (from the neutrals when ``neutral``)."""
        pool = [c for c in (NEUTRALS if neutral else COLOR_NAMES) if c not in avoid]
        return self.choice(pool)

    def count(self, part: str, low: int, high: int) -> int:
        """How many of ``part``: the prompt's number when it asked for one (clamped to
        [low, high]), else uniform in [low, high]; recorded in ``facts``."""
        wanted = self.requested.get(part)
        value = min(max(int(wanted), low), high) if wanted is not None else self.integer(low, high)
        self.facts[part] = value
        return value

    def stretch(self, word: str, factor: float) -> float:
        """``factor`` when the instance has proportion ``word``, else 1."""
        return factor if self.shape == word else 1.0
