"""The typed, immutable reading of a prompt that the embedded augmenter's passes produce.

A pass takes the previous value and returns a new one (:func:`dataclasses.replace`); nothing
is changed in place, so what an earlier pass found stays as it was."""

from __future__ import annotations

from dataclasses import dataclass, replace

from text3d.data.toyworld.vocabulary import CategoryInfo
from text3d.prompts.embedded.lexicon import ARTICLES, GENERIC_HEADS, SPLITTERS, is_attribute, phrase_end
from text3d.prompts.grounding import Grounding

IndexedWords = tuple[tuple[int, str], ...]
"""(token index, word) pairs in index order."""


@dataclass(frozen=True)
class ObjectReading:
    """One object named in a prompt: its words as typed and what each pass found in them.

    Token indices refer to ``tokens`` (the object phrase without leading determiners or a
    depiction prefix such as "3d model of a")."""

    tokens: tuple[str, ...]
    phrase_end: int = 0  # index of the first preposition (the head noun phrase ends there)
    head_end: int = 0  # where the head noun ends: before a trailing generic head ("duck toy")
    simple: bool = True  # modifiers + head noun only
    category: CategoryInfo | None = None
    noun_span: tuple[int, int] = (0, 0)  # the head noun's tokens [start, end)
    colors: tuple[int, ...] = ()  # indices of palette color words
    material: int | None = None  # index of a material word
    count: int = 1
    grounded: Grounding | None = None  # set when the category came from grounding ("yacht")
    grounded_colors: IndexedWords = ()  # palette colors of color words outside it ("crimson" → "red")
    grounded_sizes: IndexedWords = ()  # toyworld size words of size words outside it ("giant" → "large")
    plural: bool = False

    @property
    def lowered(self) -> tuple[str, ...]:
        return tuple(t.lower() for t in self.tokens)

    @property
    def rewritten(self) -> bool:
        """Whether a caption names this object in toyworld's words instead of the typed ones: a
        simple phrase ("crimson yacht", "teapot in rose", "crimson griddle") with a grounded
        category, color or size."""
        return self.simple and (self.grounded is not None or bool(self.grounded_colors) or bool(self.grounded_sizes))

    def without_grounding(self) -> ObjectReading:
        """The reading with the grounded category, colors and sizes dropped (the category, once
        found, stays): a long prompt keeps its typed words."""
        return replace(self, grounded=None, grounded_colors=(), grounded_sizes=())

    def unnamed_noun(self) -> str:
        """The words of an uncategorized object's noun phrase that no attribute explains ("heli" in
        "average-sized heli in scarlet", "yacht club" in "car and yacht club": the words after a
        coordinator the split kept); "" when the object has a category."""
        if self.category is not None:
            return ""
        lowered = self.lowered
        cut = phrase_end(lowered)
        start = max((i + 1 for i, t in enumerate(lowered[:cut]) if t in SPLITTERS), default=0)
        explained = {*self.colors, *dict(self.grounded_colors), *dict(self.grounded_sizes), self.material}
        return " ".join(w for i, w in enumerate(lowered[start:cut], start)
                        if i not in explained and not is_attribute(w) and w not in ARTICLES
                        and w not in GENERIC_HEADS and w.replace("-", "").isalpha())


@dataclass(frozen=True)
class Reading:
    """A prompt as read: as given, with its whitespace collapsed, and its objects."""

    prompt: str
    text: str
    objects: tuple[ObjectReading, ...]
