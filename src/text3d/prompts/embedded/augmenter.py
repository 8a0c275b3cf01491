"""``embedded``: the offline default augmenter backend — no network, no model, deterministic per seed.

It writes the object-centric captions a 3D-asset caption needs (shape, parts, colors,
materials; one object, plain background) from toyworld's vocabulary.
"""

from __future__ import annotations

from text3d.errors import InputError
from text3d.prompts.base import AugmentRequest, Completion, augmenters
from text3d.prompts.embedded.compose import compose_caption
from text3d.prompts.embedded.read import read_prompt

__all__ = ["MODEL_VERSION", "EmbeddedAugmenter"]

MODEL_VERSION = "toyworld-v5"
"""The version of the embedded augmenter's reading and templates (part of its identity)."""


@augmenters.register("embedded")
class EmbeddedAugmenter:
    """Template captions from toyworld's vocabulary (:func:`~text3d.prompts.embedded.embedded_caption`)."""

    backend = "embedded"
    cacheable = False  # faster than a cache lookup
    identity = False

    def __init__(self, model: str = "") -> None:
        if model and model != MODEL_VERSION:
            raise InputError(f"embedded augmenter {model!r}: the only version is {MODEL_VERSION!r}")
        self.model = MODEL_VERSION

    def warm_up(self) -> None:
        """Load what the first caption would: toyworld's lexicon, and WordNet and MiniLM, which ground
        words outside it ("crimson armchair")."""
        compose_caption(read_prompt("a small crimson armchair"), 0, 0, 40)

    def propose(self, request: AugmentRequest) -> Completion:
        """One caption for the request's prompt; no tokens are counted (no language model runs)."""
        text = compose_caption(read_prompt(request.prompt), request.seed, request.attempt, request.params.max_words)
        return Completion(text=text, model=self.model)
