"""toyworld's vocabulary: the categories, with the attribute words they are described in.

Text-only readers (the prompt augmenter, the procedural backend's prompt parser, the caption
writer) import this module. The categories themselves are declared next to their geometry
programs in ``text3d.data.toyworld.categories`` (:mod:`text3d.data.toyworld.declaration`);
:data:`CATEGORIES` holds them all from its first read on (the modules load then).

Words come in three sets (:mod:`text3d.data.toyworld.attributes`): *training* words
(``CategoryInfo.synonyms``, ``COLOR_WORDS``, …) appear in training prompts and captions;
*development* words (``paraphrases``, ``COLOR_PARAPHRASES``, …) only in the paraphrase prompts
of development seeds; *test* words (``test_paraphrases``, ``COLOR_TEST_PARAPHRASES``, …) only in
those of test seeds. Evaluation thereby tests whether a model generalizes through its text
encoder instead of memorizing the training strings, on words no rule was chosen on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from text3d.data.toyworld.attributes import (
    COLOR_NAMES,
    COLOR_PARAPHRASES,
    COLOR_TEST_PARAPHRASES,
    COLOR_WORDS,
    MATERIAL_PARAPHRASES,
    MATERIAL_TEST_PARAPHRASES,
    MATERIALS,
    NUMBER_WORDS,
    PALETTE,
    SHAPE_WORDS,
    SIZE_PARAPHRASES,
    SIZE_TEST_PARAPHRASES,
    SIZE_WORDS,
    SIZES,
    MaterialInfo,
)
from text3d.data.toyworld.declaration import CATEGORIES, PROGRAMS, CategoryInfo, CategoryProgram

__all__ = [
    "CATEGORIES", "COLOR_NAMES", "COLOR_PARAPHRASES", "COLOR_TEST_PARAPHRASES", "COLOR_WORDS",
    "MATERIALS", "MATERIAL_PARAPHRASES", "MATERIAL_TEST_PARAPHRASES", "NUMBER_WORDS", "PALETTE",
    "SHAPE_WORDS", "SIZES", "SIZE_PARAPHRASES", "SIZE_TEST_PARAPHRASES", "SIZE_WORDS", "CategoryInfo",
    "MaterialInfo", "built_categories", "category_index", "color_index", "load_programs",
]

_SNAPSHOTS = {
    "CATEGORY_NAMES": lambda: tuple(CATEGORIES),
    "GROUPS": lambda: tuple(dict.fromkeys(c.group for c in CATEGORIES.values())),
}
"""``CATEGORY_NAMES``: the categories known at first read, in class-index order (trained models'
classes); ``GROUPS``: their groups. Taken on first read, so importing this module stays light."""


def __getattr__(name: str) -> Any:
    if name in _SNAPSHOTS:
        value = globals()[name] = _SNAPSHOTS[name]()
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def category_index(name: str) -> int:
    """Class index of a category (its registration position; built-in ones as in :data:`CATEGORY_NAMES`)."""
    return list(CATEGORIES).index(name)


def color_index(name: str) -> int:
    """Class index of a palette color."""
    return COLOR_NAMES.index(name)


def load_programs() -> Mapping[str, CategoryProgram]:
    """Every registered category's program by name (the built-in ones load on first read)."""
    return PROGRAMS


def built_categories() -> tuple[str, ...]:
    """The categories of :data:`CATEGORY_NAMES` that have a program (so toyworld can build them), in order."""
    programs = load_programs()
    return tuple(c for c in __getattr__("CATEGORY_NAMES") if c in programs)  # the lazy snapshot, from inside
