"""The embedded augmenter: offline captions from toyworld's vocabulary, no network, no model.

It reads a prompt into one immutable :class:`Reading` (:func:`read_prompt`: normalize → split
into objects → head noun → attributes → ground, each a named pass over declared tables) and
composes a caption from it (:func:`compose_caption`). Words outside toyworld's vocabulary are
grounded the way an LLM would read them, from general knowledge only — WordNet, the XKCD color
names and MiniLM similarity (:mod:`text3d.prompts.grounding`), never toyworld's held-out word
lists: "crimson yacht" → "A sailboat with a pointed red wooden hull, … (crimson yacht)."

Public: :func:`embedded_caption` (prompt → caption), :func:`read_prompt`, :func:`compose_caption`
and the reading types; :class:`~.augmenter.EmbeddedAugmenter` is the ``embedded`` backend of
:data:`text3d.prompts.base.augmenters`.
"""

from text3d.prompts.embedded.augmenter import MODEL_VERSION, EmbeddedAugmenter
from text3d.prompts.embedded.compose import compose_caption
from text3d.prompts.embedded.read import read_prompt
from text3d.prompts.embedded.reading import ObjectReading, Reading
from text3d.text import MAX_CAPTION_WORDS


def embedded_caption(prompt: str, seed: int = 0, attempt: int = 0, max_words: int = MAX_CAPTION_WORDS) -> str:
    """The embedded augmenter's caption for ``prompt`` (deterministic in prompt, seed, attempt)."""
    return compose_caption(read_prompt(prompt), seed, attempt, max_words)


__all__ = ["MODEL_VERSION", "EmbeddedAugmenter", "ObjectReading", "Reading", "compose_caption", "embedded_caption",
           "read_prompt"]
