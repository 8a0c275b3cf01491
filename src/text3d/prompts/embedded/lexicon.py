"""The declared tables the embedded augmenter reads prompts with: closed word classes, the
words that end or split a noun phrase, and toyworld's vocabulary keyed for lookup."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from text3d.data.toyworld.declaration import revision
from text3d.data.toyworld.vocabulary import (
    CATEGORIES,
    COLOR_WORDS,
    MATERIALS,
    NUMBER_WORDS,
    SHAPE_WORDS,
    SIZE_WORDS,
    CategoryInfo,
)
from text3d.text import singular

ARTICLES = frozenset({"a", "an", "the", "some"})
"""Determiners dropped before an object phrase."""
SPLITTERS = frozenset({"and", ",", "&", "plus", ";"})
"""Coordinators that may join two objects."""
SIDE_BY_SIDE = frozenset({"beside", "alongside"})
"""Spatial words that join two objects only when both name categories."""
COORDINATORS = frozenset({"and", "&", "or"})
"""Words between two attributes of one object ("red and blue car")."""
PREPOSITIONS = frozenset("with of on in at by for from under over near beside behind inside holding wearing "
                         "made that which".split())
"""Words that end the head noun phrase: what follows modifies it."""
DIGIT_WORDS = {str(n): n for n in range(2, 21)}
GENERIC_HEADS = frozenset({"toy", "toys", "figurine", "figurines", "model", "models"})
"""Nouns that only say "a depiction of some kind": as the last word of a noun phrase they leave
the head before them ("duck toy" is a toy duck); followed by "of" they introduce the object
("toy of a duck", "3d model of a car")."""


@dataclass(frozen=True)
class Lexicon:
    """Toyworld's words keyed for lookup: category phrases (singular words), colors, materials, counts."""

    phrases: dict[tuple[str, ...], CategoryInfo]
    colors: dict[str, str]
    materials: dict[str, str]
    numbers: dict[str, int]

    @property
    def longest_phrase(self) -> int:
        return max((len(p) for p in self.phrases), default=1)


def lexicon() -> Lexicon:
    """Toyworld's vocabulary as the augmenter looks words up (built again when a category is registered)."""
    return _lexicon(revision())


@functools.lru_cache(maxsize=1)
def _lexicon(registry_revision: int) -> Lexicon:
    phrases: dict[tuple[str, ...], CategoryInfo] = {}
    for info in CATEGORIES.values():
        for name in info.words:
            phrases.setdefault(tuple(singular(w) for w in name.lower().split()), info)
    colors = {w: color for color, ws in COLOR_WORDS.items() for w in ws}
    materials = {w: name for name, info in MATERIALS.items() for w in info.words}
    numbers = {w: n for n, w in NUMBER_WORDS.items() if n > 1}
    numbers.update(DIGIT_WORDS)
    return Lexicon(phrases, colors, materials, numbers)


def is_attribute(token: str) -> bool:
    """Whether ``token`` is one of toyworld's color, material, count, size or shape words."""
    words = lexicon()
    word = token.lower()
    return (word in words.colors or word in words.materials or word in words.numbers
            or any(word in ws for ws in SIZE_WORDS.values()) or any(word in ws for ws in SHAPE_WORDS.values()))


def phrase_end(lowered: tuple[str, ...] | list[str]) -> int:
    """Index of the first preposition (the end of the head noun phrase), or the length."""
    return next((i for i, t in enumerate(lowered) if t in PREPOSITIONS), len(lowered))
