"""toyworld's vocabulary: the categories, with the attribute words they are described in.

Text-only readers (the prompt augmenter, the procedural backend's prompt parser, the caption
writer) import this module. The categories themselves are declared next to their geometry
programs in ``text3d.data.toyworld.categories`` (:mod:`text3d.data.toyworld.declaration`);
importing this module registers them all, so :data:`CATEGORIES` is complete here.

Words come in three sets (:mod:`text3d.data.toyworld.attributes`): *training* words
(``CategoryInfo.synonyms``, ``COLOR_WORDS``, …) appear in training prompts and captions;
*development* words (``paraphrases``, ``COLOR_PARAPHRASES``, …) only in the paraphrase prompts
of development seeds; *test* words (``test_paraphrases``, ``COLOR_TEST_PARAPHRASES``, …) only in
those of test seeds. Evaluation thereby tests whether a model generalizes through its text
encoder instead of memorizing the training strings, on words no rule was chosen on.
"""

from __future__ import annotations

from text3d.data.toyworld import categories  # noqa: F401 - registers every built-in category
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
    "CATEGORIES", "CATEGORY_NAMES", "COLOR_NAMES", "COLOR_PARAPHRASES", "COLOR_TEST_PARAPHRASES", "COLOR_WORDS",
    "GROUPS", "MATERIALS", "MATERIAL_PARAPHRASES", "MATERIAL_TEST_PARAPHRASES", "NUMBER_WORDS", "PALETTE",
    "SHAPE_WORDS", "SIZES", "SIZE_PARAPHRASES", "SIZE_TEST_PARAPHRASES", "SIZE_WORDS", "CategoryInfo",
    "MaterialInfo", "category_index", "color_index", "load_programs",
]

CATEGORY_NAMES: tuple[str, ...] = tuple(CATEGORIES)
"""The categories known when the vocabulary was loaded, in class-index order (trained models' classes)."""
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(c.group for c in CATEGORIES.values()))


def category_index(name: str) -> int:
    """Class index of a category (its registration position; built-in ones as in :data:`CATEGORY_NAMES`)."""
    return list(CATEGORIES).index(name)


def color_index(name: str) -> int:
    """Class index of a palette color."""
    return COLOR_NAMES.index(name)


def load_programs() -> dict[str, CategoryProgram]:
    """Every registered category's program by name (the built-in ones are loaded with this module)."""
    return PROGRAMS
