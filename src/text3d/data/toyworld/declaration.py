"""A toyworld category's declaration and the registry of declarations and programs.

A category is one declaration (:class:`CategoryInfo`: its words, parts, part counts, main part,
shared parts, materials and size) and the program that builds it, written together::

    @category(CategoryInfo("mug", "kitchenware", "mug", synonyms=(...), parts=("body", "handle"), ...))
    def mug(s: Style) -> list[Part]: ...

The built-in categories live in the group modules of ``text3d.data.toyworld.categories``; any other
module may add one the same way (or with :func:`register`), and every reader — toyworld's
instances and texts, the embedded augmenter's tables, the procedural backend's prompt parser —
sees it. Registration order is the order of :data:`CATEGORIES`, which defines class indices and
the seeded random streams, so a new category is appended after the built-in ones. Readers that
cache something derived from the registry key the cache on :func:`revision`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from text3d.data.toyworld.attributes import MATERIALS, PALETTE, SHAPE_WORDS

if TYPE_CHECKING:  # the geometry (numpy) loads with the programs, not with the declarations
    from text3d.data.toyworld.shapes import Part
    from text3d.data.toyworld.style import Style

Builder = Callable[["Style"], list["Part"]]
V = TypeVar("V")
CATEGORY_PACKAGE = "text3d.data.toyworld.categories"
"""The package whose modules declare the built-in categories (imported on first use)."""


@dataclass(frozen=True)
class CategoryInfo:
    """Everything text and captions know of one category; its geometry is the registered program.

    ``paraphrases`` are development held-out nouns, ``test_paraphrases`` test held-out nouns (see
    :mod:`text3d.data.toyworld.attributes`). ``materials`` are what toyworld draws for the main
    parts (a repeated entry is drawn more often). ``counts`` names parts whose number the program
    always builds; ``main_part`` carries the object's color where several parts take the main color
    equally often; ``shared_parts`` always have the main part's material. ``typical_colors`` are the
    main part's colors a caption names when the prompt names none. ``one_material``: every part but
    those with a material of their own (``OWN_MATERIAL_PARTS``) has one of ``materials``;
    ``named_material`` False: captions name no material (snow, plants).
    """

    name: str
    group: str
    noun: str
    synonyms: tuple[str, ...]
    paraphrases: tuple[str, ...]
    parts: tuple[str, ...]
    shapes: tuple[str, ...] = ()
    size_m: float = 0.3  # real-world height of a medium instance, meters
    materials: tuple[str, ...] = ("plastic",)
    test_paraphrases: tuple[str, ...] = ()
    counts: tuple[tuple[str, int], ...] = ()
    main_part: str | None = None
    shared_parts: tuple[str, ...] = ()
    typical_colors: tuple[str, ...] = ()
    one_material: bool = False
    named_material: bool = True

    @property
    def words(self) -> tuple[str, ...]:
        """Every training name of the category (noun first)."""
        return (self.noun,) + tuple(s for s in self.synonyms if s != self.noun)

    @property
    def part_counts(self) -> dict[str, int]:
        """Part name → the number the program always builds (parts with a fixed number only)."""
        return dict(self.counts)

    def check(self) -> None:
        """Raise ValueError when a field names a part, material, color or shape word it may not."""
        parts = set(self.parts)
        named = set(self.part_counts) | set(self.shared_parts) | ({self.main_part} - {None})
        problems = [f"part {p!r} is not among its parts" for p in sorted(named - parts)]
        problems += [f"unknown material {m!r}" for m in self.materials if m not in MATERIALS]
        problems += [f"unknown color {c!r}" for c in self.typical_colors if c not in PALETTE]
        problems += [f"unknown proportion {w!r}" for w in self.shapes if w not in SHAPE_WORDS]
        if not self.parts or not self.materials or not self.paraphrases or not self.test_paraphrases:
            problems.append("parts, materials, paraphrases and test_paraphrases may not be empty")
        if problems:
            raise ValueError(f"toyworld category {self.name!r}: {'; '.join(problems)}")


@dataclass(frozen=True)
class CategoryProgram:
    """A category's declaration and the geometry program that builds it."""

    info: CategoryInfo
    build: Builder

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def materials(self) -> tuple[str, ...]:
        """The materials its main parts may have (drawn uniformly over this tuple)."""
        return self.info.materials


_DECLARED: dict[str, CategoryInfo] = {}
_BUILDERS: dict[str, CategoryProgram] = {}
_STATE = {"discovered": False, "revision": 0}


def _discover() -> None:
    """Import the built-in categories' modules once. They load on first use, not with the
    vocabulary, so their geometry code (numpy) stays off the cold path of ``text3d --help``."""
    if not _STATE["discovered"]:
        _STATE["discovered"] = True
        importlib.import_module(CATEGORY_PACKAGE)


class _Registered(Mapping[str, V]):
    """A read-only view of a registry that holds every built-in category once it is read."""

    def __init__(self, entries: dict[str, V]) -> None:
        self._entries = entries

    def __getitem__(self, name: str) -> V:
        _discover()
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        _discover()
        return iter(list(self._entries))

    def __len__(self) -> int:
        _discover()
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        _discover()
        return name in self._entries

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)!r})"


CATEGORIES: Mapping[str, CategoryInfo] = _Registered(_DECLARED)
"""Every registered category by name, in registration order (the order defines class indices)."""
PROGRAMS: Mapping[str, CategoryProgram] = _Registered(_BUILDERS)
"""Every registered category's program by name, in the same order."""


def revision() -> int:
    """A number that changes whenever a category is registered or removed (a cache key)."""
    return _STATE["revision"]


def register(info: CategoryInfo, build: Builder) -> None:
    """Add a category: its declaration and program (a name may be registered once). The
    built-in categories are registered first, so they keep their class indices."""
    _discover()
    if info.name in _DECLARED:
        raise KeyError(f"toyworld category {info.name!r} is registered twice")
    info.check()
    _DECLARED[info.name] = info
    _BUILDERS[info.name] = CategoryProgram(info, build)
    _STATE["revision"] += 1


def unregister(name: str) -> None:
    """Remove a category added with :func:`register` (tests; built-in indices stay as they are)."""
    _DECLARED.pop(name, None)
    _BUILDERS.pop(name, None)
    _STATE["revision"] += 1


def category(info: CategoryInfo) -> Callable[[Builder], Builder]:
    """Decorator: register ``info`` with the decorated function as its program."""

    def decorate(build: Builder) -> Builder:
        register(info, build)
        return build

    return decorate
