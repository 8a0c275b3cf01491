"""Content words of a prompt and whether a caption keeps them.

There is no part-of-speech tagger offline, so a *content word* is every word outside a
closed list of function words (articles, prepositions, pronouns, auxiliaries, request words
such as "generate"): a superset of the nouns, adjectives and numbers the caption rules ask
for. A caption keeps a prompt word when one of its words is

* the same word up to inflection (plural, -ed, -ing, comparative) or derivation that keeps
  the lemma (wood → wooden, metal → metallic, glass → glassy);
* an equivalent decided reliably: a spelling variant (grey/gray, aeroplane/airplane), a
  number written the other way (2/two), a color or size word toyworld's vocabulary treats as
  the same class (purple/violet, small/little), a material's name and adjective;
* a head-final compound ending with it (boat → sailboat, plane → airplane), or the word
  split or joined (tea pot ↔ teapot, snow man ↔ snowman).

Looser synonyms (cup → mug, desk → table) are not accepted: they cannot be decided reliably.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence

from text3d.data.toyworld.vocabulary import COLOR_WORDS, MATERIALS, NUMBER_WORDS, SIZE_WORDS
from text3d.text import lemma_forms, words

FUNCTION_WORDS = frozenset("""
a an the this that these those some any each every either neither no another such
of to in on at by for from with without within into onto over under above below behind beside
besides between among around through across along near beyond toward towards upon off out up down
and or but nor so yet as than then if while because although though whereas
it its it's he she they them their theirs his her hers him we us our you your i me my mine
is are was were be been being am do does did has have had will would shall should can could
may might must not very really quite rather too just also only even more most less least
please generate create make render draw show give me image picture asset 3d 3-d
which who whom whose what where when how there here all both few many much several
""".split())
"""Words that are never content words (closed classes and request words)."""

FUNCTION_PHRASES: tuple[tuple[str, ...], ...] = (
    ("next", "to"), ("close", "to"), ("in", "front", "of"), ("on", "top", "of"), ("model", "of"),
)
"""Multi-word prepositions (and "a 3D model of"): their words are function words there only, so
"top" stays a content word in "spinning top" and "next" in "the next car" but not in "next to"."""


def function_mask(tokens: Sequence[str]) -> list[bool]:
    """For lower-cased ``tokens`` (L,): True where a token is a function word — in
    :data:`FUNCTION_WORDS` or inside one of the :data:`FUNCTION_PHRASES`."""
    mask = [t in FUNCTION_WORDS for t in tokens]
    for phrase in FUNCTION_PHRASES:
        n = len(phrase)
        for start in range(len(tokens) - n + 1):
            if tuple(tokens[start:start + n]) == phrase:
                mask[start:start + n] = [True] * n
    return mask

_SPELLING_VARIANTS = (
    ("gray", "grey"), ("color", "colour"), ("colored", "coloured"), ("airplane", "aeroplane"),
    ("aluminum", "aluminium"), ("axe", "ax"), ("center", "centre"), ("meter", "metre"),
    ("theater", "theatre"), ("armor", "armour"), ("jewelry", "jewellery"), ("mustache", "moustache"),
    ("donut", "doughnut"),
)

_EXTRA_NUMBERS = {0: "zero", 9: "nine", 10: "ten", 11: "eleven", 12: "twelve", 20: "twenty", 100: "hundred"}


@functools.lru_cache(maxsize=1)
def _equivalence_classes() -> dict[str, str]:
    """word → canonical key for words that count as the same content word."""
    classes: dict[str, str] = {}

    def join(members: tuple[str, ...] | list[str], key: str) -> None:
        for word in members:
            classes.setdefault(word, key)

    for color, members in COLOR_WORDS.items():
        join(members + (color,), f"color:{color}")
    for size, members in SIZE_WORDS.items():
        join(tuple(w for w in members if " " not in w) + (size,), f"size:{size}")
    for name, info in MATERIALS.items():
        same_lemma = [w for w in info.words + (info.adjective,) if w[:4] == name[:4]]
        join(same_lemma + [name], f"material:{name}")
    for a, b in _SPELLING_VARIANTS:
        key = classes.get(a, f"spelling:{a}")
        join((a, b), key)
    numbers = dict(NUMBER_WORDS)
    numbers.update(_EXTRA_NUMBERS)
    for value, word in numbers.items():
        join((word, str(value)), f"number:{value}")
    join(("single",), "number:1")
    return classes


def content_words(prompt: str) -> list[str]:
    """The prompt's content words in order, without repeats ("a 3D model of X" drops "model",
    "X next to Y" drops "next")."""
    tokens = words(prompt)
    found: list[str] = []
    for word, function in zip(tokens, function_mask(tokens)):
        if not function and word not in found:
            found.append(word)
    return found


@functools.lru_cache(maxsize=65536)
def word_keys(word: str) -> frozenset[str]:
    """Every matching key of ``word``: its lemma forms (:func:`text3d.text.lemma_forms`) and their
    equivalence classes."""
    classes = _equivalence_classes()
    keys = set()
    for form in lemma_forms(word):
        keys.add(form)
        if form in classes:
            keys.add(classes[form])
    if word in classes:
        keys.add(classes[word])
    return frozenset(keys)


def _is_compound_of(caption_word: str, word: str) -> bool:
    """``caption_word`` is a head-final compound of ``word`` (sailboat of boat)."""
    return len(word) >= 3 and len(caption_word) - len(word) >= 3 and caption_word.endswith(word)


def missing_content_words(prompt: str, caption: str) -> list[str]:
    """The prompt's content words that ``caption`` does not keep (see the module docstring)."""
    wanted = content_words(prompt)
    if not wanted:
        return []
    caption_tokens = words(caption)
    caption_keys: set[str] = set()
    for token in caption_tokens:
        caption_keys.update(word_keys(token))
    caption_set = set(caption_tokens)
    joined_pairs = {a + b for a, b in itertools.pairwise(caption_tokens)}
    prompt_tokens = words(prompt)
    kept_by_join: set[str] = set()
    for a, b in itertools.pairwise(prompt_tokens):
        if a + b in caption_set:
            kept_by_join.update((a, b))

    missing = []
    for word in wanted:
        if word in kept_by_join or word in joined_pairs:
            continue
        if word_keys(word) & caption_keys:
            continue
        if any(_is_compound_of(token, word) for token in caption_set):
            continue
        missing.append(word)
    return missing
