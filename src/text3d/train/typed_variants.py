"""Training prompts typed the way users type them: with color and size words outside toyworld's.

At generation time the embedded augmenter grounds such words and keeps them as typed at the end
of the caption ("A sailboat with a red hull, … (cerulean sailboat)."), a caption shape the
generator never saw while it trained only on toyworld's own texts. :func:`typed_variant` makes
that shape part of training: it swaps a prompt's palette color words for color names from the
XKCD survey that the augmenter reads as the same palette color, and its size words for WordNet
size adjectives, and the augmenter then writes the caption exactly as it would for a user.

Toyworld's held-out paraphrase words (``COLOR_PARAPHRASES``, ``SIZE_PARAPHRASES``, the category
paraphrases) are removed from both lists, so they stay unseen in every training text.
"""

from __future__ import annotations

import functools
import re

import numpy as np

from text3d.data.toyworld.vocabulary import (
    CATEGORIES,
    COLOR_PARAPHRASES,
    COLOR_WORDS,
    MATERIAL_PARAPHRASES,
    MATERIALS,
    SIZE_PARAPHRASES,
    SIZE_WORDS,
)
from text3d.prompts.grounding import ground_color, ground_size

SIZE_ADJECTIVES = ("gigantic", "enormous", "colossal", "massive", "oversized", "jumbo", "immense", "diminutive",
                   "minuscule", "wee", "pocket-sized", "teeny", "moderate-sized", "medium-size", "mid-size")
"""General English size adjectives; those WordNet does not tie to a toyworld size are dropped."""


def _held_out(table: dict[str, tuple[str, ...]]) -> frozenset[str]:
    return frozenset(w for words in table.values() for w in words)


def _category_words() -> frozenset[str]:
    """Every word of the categories' and materials' training words and held-out paraphrases
    ("evergreen", "mushroom" and "steel" are XKCD colors too): never used as a color."""
    nouns = {w for info in CATEGORIES.values() for phrase in info.words + info.paraphrases
             for w in phrase.lower().split()}
    return frozenset(nouns | {w for info in MATERIALS.values() for w in info.words} | _held_out(MATERIAL_PARAPHRASES))


@functools.lru_cache(maxsize=1)
def color_alternatives() -> dict[str, tuple[str, ...]]:
    """Palette color → one-word XKCD color names the augmenter grounds to it (held-out words removed)."""
    from matplotlib.colors import XKCD_COLORS

    banned = _held_out(COLOR_PARAPHRASES) | _held_out(COLOR_WORDS) | _category_words()
    found: dict[str, list[str]] = {color: [] for color in COLOR_WORDS}
    for key in sorted(XKCD_COLORS):
        name = key.removeprefix("xkcd:")
        if name.isalpha() and name not in banned:
            grounding = ground_color(name)
            if grounding is not None and grounding.name in found:
                found[grounding.name].append(name)
    return {color: tuple(names) for color, names in found.items()}


@functools.lru_cache(maxsize=1)
def size_alternatives() -> dict[str, tuple[str, ...]]:
    """Toyworld size → the ``SIZE_ADJECTIVES`` WordNet ties to it (held-out words removed)."""
    banned = _held_out(SIZE_PARAPHRASES) | _held_out(SIZE_WORDS)
    found: dict[str, list[str]] = {size: [] for size in SIZE_WORDS}
    for word in SIZE_ADJECTIVES:
        grounding = ground_size(word)
        if word not in banned and grounding is not None and grounding.name in found:
            found[grounding.name].append(word)
    return {size: tuple(words) for size, words in found.items()}


@functools.lru_cache(maxsize=1)
def _swap_table() -> dict[str, tuple[str, ...]]:
    """Toyworld color or size word → its outside alternatives."""
    table = {w: color_alternatives()[c] for c, ws in COLOR_WORDS.items() for w in ws}
    table.update({w: size_alternatives()[s] for s, ws in SIZE_WORDS.items() for w in ws})
    return {w: options for w, options in table.items() if options}


def typed_variant(prompt: str, rng: np.random.Generator) -> str:
    """``prompt`` with each palette color word and size word swapped for an outside word of the
    same meaning ("small blue sailboat" → "wee cerulean sailboat"); unchanged when it has none."""
    table = _swap_table()

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        options = table.get(word.lower(), ())
        return str(options[int(rng.integers(len(options)))]) if options else word

    return re.sub(r"[A-Za-z-]+", swap, prompt)
