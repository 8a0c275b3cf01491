"""What the parts of toyworld's categories look like, as the embedded augmenter's tables.

Nothing is declared here: every table is read from toyworld's category declarations
(:class:`text3d.data.toyworld.declaration.CategoryInfo`) and its part table
(:mod:`text3d.data.toyworld.parts`). The per-category tables are views that follow the registry,
so a category registered later (a new file, or a test) is in them with no other edit.

Colors here are drawn for a part after the main one only when it does not take the main color,
which happens as often as toyworld paints it so (``_part_palettes``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

from text3d.data.toyworld.declaration import revision
from text3d.data.toyworld.parts import GROUP_MATERIALS, OWN_MATERIAL_PARTS, PART_LOOKS, PartLook
from text3d.data.toyworld.vocabulary import CATEGORIES

K = TypeVar("K")
V = TypeVar("V")

__all__ = ["CATEGORY_MATERIALS", "GROUP_MATERIALS", "MAIN_COLORS", "MAIN_PART", "OWN_MATERIAL_PARTS",
           "PART_COUNTS", "PART_LOOKS", "UNIFORM_PARTS", "DeclaredTable", "PartLook"]


class DeclaredTable(Mapping[K, V], Generic[K, V]):
    """A read-only table computed from the registered category declarations, rebuilt when the
    registry changes (:func:`text3d.data.toyworld.declaration.revision`)."""

    def __init__(self, build: Callable[[], dict[K, V]]) -> None:
        self._build = build
        self._revision: int | None = None
        self._table: dict[K, V] = {}

    def _current(self) -> dict[K, V]:
        if self._revision != revision():
            self._table, self._revision = self._build(), revision()
        return self._table

    def __getitem__(self, key: K) -> V:
        return self._current()[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())


PART_COUNTS: Mapping[tuple[str, str], int] = DeclaredTable(
    lambda: {(info.name, part): n for info in CATEGORIES.values() for part, n in info.counts})
"""(category, part) → how many of that plural part the category always has (``CategoryInfo.counts``)."""

MAIN_PART: Mapping[str, str] = DeclaredTable(
    lambda: {info.name: info.main_part for info in CATEGORIES.values() if info.main_part})
"""Which part carries the object's color among parts toyworld paints in the main color equally
often ("green cactus": the stem, not its arms); ``_part_palettes.main_part`` measures the rest."""

UNIFORM_PARTS: Mapping[str, frozenset[str]] = DeclaredTable(
    lambda: {info.name: frozenset(info.shared_parts) for info in CATEGORIES.values() if info.shared_parts})
"""Parts that share the main part's material (a bear's fur, a snowman's snow); how often a part
shares its color is measured on toyworld (``_part_palettes``)."""

CATEGORY_MATERIALS: Mapping[str, tuple[str, ...]] = DeclaredTable(
    lambda: {info.name: info.materials if info.named_material else ("",)
             for info in CATEGORIES.values() if info.one_material})
"""Materials of every part of one-material categories, except parts with their own (wheels, pots,
trunks); ("",): none is named."""

MAIN_COLORS: Mapping[str, tuple[str, ...]] = DeclaredTable(
    lambda: {info.name: info.typical_colors for info in CATEGORIES.values() if info.typical_colors})
"""Plausible colors of the main part where the part's own list would be wrong."""
