"""Condition rewriters of the embedded generator: what the model is asked for, before sampling.

A rewriter maps the user's :class:`~text3d.generators.base.Condition` to the one the model
is conditioned on and names the single category the prompt asks for (which the selector
judges candidates by). It is named in the generator's ``config.json``:
``{"name": "nearest_category", "args": {}}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from text3d.generators.base import Condition
from text3d.generators.closed_vocabulary import nearest_known_text
from text3d.registry import Registry


@dataclass(frozen=True)
class Rewrite:
    """The condition to sample from, the one category it asks for (None: several or none), and
    what to report: warnings and ``info`` entries of the generator's output."""

    condition: Condition
    category: str | None = None
    warnings: tuple[str, ...] = ()
    info: dict[str, Any] = field(default_factory=dict)


class Rewriter(Protocol):
    def __call__(self, condition: Condition) -> Rewrite: ...


rewriters: Registry[Rewriter] = Registry("rewriter", ())
"""Rewriter name → class."""


@rewriters.register("nearest_category")
class NearestCategoryRewriter:
    """For a closed-vocabulary model: each object of the prompt that names no toyworld category is
    conditioned as the nearest category by MiniLM similarity, with a warning
    (:func:`~text3d.generators.closed_vocabulary.nearest_known_text`). Image-token conditions
    pass unchanged and name no category."""

    def __call__(self, condition: Condition) -> Rewrite:
        if condition.tokens is not None:
            return Rewrite(condition)
        known = nearest_known_text(condition.prompt, condition.text)
        if not known.substitutions:
            return Rewrite(condition, known.category)
        nearest = [{"typed": noun, "category": g.name, "cosine": round(g.score, 3)} for noun, g in known.substitutions]
        return Rewrite(Condition(prompt=condition.prompt, caption=known.text), known.category, tuple(known.warnings),
                       {"nearest_categories": nearest})
