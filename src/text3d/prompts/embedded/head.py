"""The passes that read one object phrase's own words: determiners, head noun, attributes.

Rules (each a table in :mod:`~text3d.prompts.embedded.lexicon`):

* a leading article is dropped, and so is a depiction prefix — a generic head followed by
  "of" ("3d model of a red car", "figurine of a penguin");
* the head noun phrase ends at the first preposition; English puts the head noun last in it,
  so the longest category phrase ending there names the category, a trailing generic head
  excepted ("duck toy" is a toy duck, "red car toy" a red car);
* "X of Y" names a category when "X of Y" or the compound "Y X" is a training phrase
  ("stack of blocks"; "tower of blocks" is a block tower), never by grounding;
* color, count and (before the head noun) material words are attributes of the object.
"""

from __future__ import annotations

from dataclasses import replace

from text3d.data.toyworld.vocabulary import CategoryInfo
from text3d.prompts.embedded.lexicon import ARTICLES, GENERIC_HEADS, PREPOSITIONS, is_attribute, lexicon, phrase_end
from text3d.prompts.embedded.reading import ObjectReading
from text3d.text import singular


def drop_determiners(tokens: tuple[str, ...]) -> ObjectReading:
    """The object phrase without a leading article or depiction prefix, with where its head noun
    phrase ends (the first preposition) and whether it is simple (no preposition at all)."""
    lowered = [t.lower() for t in tokens]
    if lowered and lowered[0] in ARTICLES:
        tokens, lowered = tokens[1:], lowered[1:]
    described = _depiction_prefix(lowered)
    tokens, lowered = tokens[described:], lowered[described:]
    cut = phrase_end(lowered)
    return ObjectReading(tuple(tokens), phrase_end=cut, head_end=cut, simple=cut == len(lowered))


def _depiction_prefix(lowered: list[str]) -> int:
    """How many leading words only say "a depiction of": "3d model of a", "toy of the",
    "figurine of" (0 when the phrase does not start that way)."""
    start = 1 if lowered[:1] == ["3d"] else 0
    if len(lowered) > start + 2 and lowered[start] in GENERIC_HEADS and lowered[start + 1] == "of":
        return start + 2 + (lowered[start + 2] in ARTICLES)
    return 0


def find_head(obj: ObjectReading) -> ObjectReading:
    """The head noun's end and, when toyworld's vocabulary names it, its category and span."""
    lowered = obj.lowered
    cut = obj.phrase_end
    generic_last = cut >= 2 and lowered[cut - 1] in GENERIC_HEADS and not is_attribute(lowered[cut - 2])
    end = cut - 1 if generic_last else cut
    head_words = [singular(t) for t in lowered[:end]]
    phrases = lexicon().phrases
    category, span = None, (0, 0)
    for size in range(min(lexicon().longest_phrase, len(head_words)), 0, -1):
        candidate = tuple(head_words[end - size:end])
        if candidate in phrases:
            category, span = phrases[candidate], (end - size, end)
            break
    of_phrase = _of_phrase_category(lowered, cut, phrases)
    if of_phrase is not None:
        category, span = of_phrase
    return replace(obj, head_end=end, category=category, noun_span=span)


def _of_phrase_category(lowered: tuple[str, ...], cut: int,
                        phrases: dict[tuple[str, ...], CategoryInfo]) -> tuple[CategoryInfo, tuple[int, int]] | None:
    """The category of an "X of Y" phrase that names one as a whole, with X's span: a training
    phrase itself ("stack of blocks"), or one as the compound "Y X" ("glass of wine" is a wine
    glass). "cup of tea" is no "tea cup" in toyworld, so it stays a cup."""
    if cut == 0 or cut >= len(lowered) - 1 or lowered[cut] != "of":
        return None
    stop = next((i for i in range(cut + 1, len(lowered)) if lowered[i] in PREPOSITIONS), len(lowered))
    complement = [singular(w) for w in lowered[cut + 1:stop] if w not in ARTICLES]
    if not complement or any(is_attribute(w) for w in complement):
        return None
    head = singular(lowered[cut - 1])
    for candidate in ((head, "of", *complement), (*complement, head)):
        if candidate in phrases:
            return phrases[candidate], (cut - 1, cut)
    return None


def read_attributes(obj: ObjectReading) -> ObjectReading:
    """Toyworld's color, material and count words in the head noun phrase; a material word counts
    only before a category's head noun ("wooden chair")."""
    words = lexicon()
    colors: list[int] = []
    material: int | None = None
    count = obj.count
    for index, word in enumerate(obj.lowered[:obj.phrase_end]):
        if word in words.colors:
            colors.append(index)
        elif word in words.materials and material is None and index < obj.noun_span[0]:
            material = index
        elif word in words.numbers:
            count = words.numbers[word]
    return replace(obj, colors=tuple(colors), material=material, count=count)
