"""The grounding pass: words outside toyworld's vocabulary read the way an LLM would read them
(:mod:`text3d.prompts.grounding`), and the number pass.

Rules:

* an unknown word that grounds to a size is a size ("gigantic"), else one that grounds to a
  palette color is a color ("crimson"); colors after a final "in" color the object ("teapot
  in rose"), which makes the phrase simple again;
* with no category yet, the head noun grounds to one: English puts the head last, so the last
  word is tried alone and as the two-word compound ending there ("shelving unit"), even when
  it could also name a color ("salmon"); a compound WordNet lists with no concrete sense names
  no object ("yacht club" is an organization); a compound led by a color word is read as that
  color unless WordNet lists it ("snowy maple" is a white maple, "olive tree" a compound);
  a last word WordNet knows as a noun outside toyworld ends the search; otherwise (slang,
  typos) earlier unknown words are tried, right to left;
* a noun is plural when WordNet knows a dictionary form for it ("yachts", "glasses"; not
  "cosmos"), or by the rough singular for words WordNet lacks.
"""

from __future__ import annotations

from dataclasses import replace

from text3d.data.toyworld.vocabulary import CATEGORIES, SIZE_WORDS
from text3d.prompts.embedded.lexicon import is_attribute, lexicon, phrase_end
from text3d.prompts.embedded.reading import ObjectReading
from text3d.prompts.grounding import Grounding, ground_category, ground_color, ground_size, names_object
from text3d.prompts.wordnet import shared_wordnet
from text3d.text import singular


def ground_unknown_words(obj: ObjectReading) -> ObjectReading:
    """Sizes, palette colors and, when no category matched, the head noun of the words outside
    toyworld's vocabulary (see the module docstring)."""
    lowered = obj.lowered
    trailing = _trailing_colors(lowered, obj.phrase_end)
    span = range(*obj.noun_span) if obj.category is not None else range(0)
    phrases = lexicon().phrases
    end = obj.head_end
    unknown = [i for i in range(end) if i not in span and not is_attribute(lowered[i])
               and (singular(lowered[i]),) not in phrases and lowered[i].replace("-", "").isalpha()]
    sizes = {i: g.name for i in unknown if (g := ground_size(lowered[i])) is not None}
    unknown = [i for i in unknown if i not in sizes]
    colors = {i: g.name for i in unknown if (g := ground_color(lowered[i])) is not None}
    category, noun_span, grounded = obj.category, obj.noun_span, None
    if category is None:
        found = _ground_head_noun(unknown, colors, lowered, end)
        if found is not None:
            grounded, noun_span = found
            category = CATEGORIES[grounded.name]
    noun = range(*noun_span) if category is not None else range(end - 1, end)  # "a chocolate"
    grounded_colors = {**{i: c for i, c in colors.items() if i not in noun}, **trailing}
    return replace(obj, simple=obj.simple or bool(trailing), category=category, noun_span=noun_span,
                   grounded=grounded, grounded_colors=tuple(sorted(grounded_colors.items())),
                   grounded_sizes=tuple((i, SIZE_WORDS[s][0]) for i, s in sorted(sizes.items())))


def _trailing_colors(lowered: tuple[str, ...], cut: int) -> dict[int, str]:
    """Colors after a final "in" ("pharos in rose" → {2: "pink"}), or {} unless only colors follow it."""
    if cut >= len(lowered) - 1 or lowered[cut] != "in":
        return {}
    found = {i: ground_color(lowered[i]) for i in range(cut + 1, len(lowered))}
    return {i: g.name for i, g in found.items() if g is not None} if all(found.values()) else {}


def _ground_noun(words: tuple[str, ...]) -> Grounding | None:
    """A category for a noun as typed when WordNet knows that spelling ("pharos"), else for its
    rough singular ("yachts" → "yacht")."""
    typed = " ".join(words)
    wordnet = shared_wordnet()
    if wordnet is not None and wordnet.senses(typed):
        return ground_category(typed)
    return ground_category(" ".join(singular(w) for w in words))


def _ground_head_noun(unknown: list[int], colors: dict[int, str], lowered: tuple[str, ...],
                      cut: int) -> tuple[Grounding, tuple[int, int]] | None:
    """The category named by the head noun among the ``unknown`` words ending at ``cut``, with its
    token span (the rules of the module docstring; MiniLM reads a compound as a whole: "desert
    plant", "floor light")."""
    last = cut - 1
    wordnet = shared_wordnet()
    if last in unknown:
        alone = _ground_noun(lowered[last:cut])
        compound = last - 1 in unknown
        pair = _ground_noun(lowered[last - 1:cut]) if compound else None
        listed = names_object(" ".join(lowered[last - 1:cut])) if compound else None
        if listed is False:
            return None  # a compound WordNet knows as no object
        if pair is not None and last - 1 in colors and not listed:
            pair = None  # a color word leading an unlisted compound is the object's color
        if pair is not None and (alone is None or pair.name != alone.name):
            return pair, (last - 1, cut)
        if alone is not None:
            return alone, (last, cut)
        if wordnet is not None and wordnet.senses(lowered[last]):
            return None
    for index in reversed([i for i in unknown if i not in colors and i != last]):
        found = _ground_noun(lowered[index:index + 1])
        if found is not None:
            return found, (index, index + 1)
    return None


def is_plural(noun: str) -> bool:
    """Whether ``noun`` is a plural: by WordNet when it knows the spelling (a dictionary form for
    it: "yachts", "glasses"; not "pharos", "cosmos" or "bus"), else by the rough singular."""
    wordnet = shared_wordnet()
    if wordnet is not None and wordnet.senses(noun, limit=1):
        return bool(wordnet.base_forms(noun))
    return singular(noun) != noun


def read_number(obj: ObjectReading) -> ObjectReading:
    """Whether the object is several: its head noun is plural, or (with no category) a count word
    says so ("pair" in "pair of red shoes" is the head)."""
    lowered = obj.lowered
    if obj.category is not None:
        return replace(obj, plural=is_plural(lowered[obj.noun_span[1] - 1]))
    cut = phrase_end(lowered)
    head = lowered[cut - 1] if cut else ""
    return replace(obj, plural=obj.count > 1 or is_plural(head))
