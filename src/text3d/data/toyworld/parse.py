"""Read a prompt (or caption) as toyworld attributes: category, colors, material, size…

The procedural backend is an oracle: it builds what the text names. Categories are found
by their noun, training synonyms and held-out (development and test) paraphrases (longest phrase first); when no
name matches, the nearest category by all-MiniLM-L6-v2 cosine between the text's content
words and "a <noun>" is used and reported. Colors next to a part name color that part
("blue boat with white sail"); the first other color is the main color.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from text3d.data.toyworld.declaration import revision
from text3d.data.toyworld.vocabulary import (
    CATEGORIES,
    COLOR_PARAPHRASES,
    COLOR_TEST_PARAPHRASES,
    COLOR_WORDS,
    MATERIAL_PARAPHRASES,
    MATERIAL_TEST_PARAPHRASES,
    MATERIALS,
    NUMBER_WORDS,
    SHAPE_WORDS,
    SIZE_PARAPHRASES,
    SIZE_TEST_PARAPHRASES,
    SIZE_WORDS,
)
from text3d.text import hyphenated_words, singular


def _invert(table: dict[str, tuple[str, ...]], extra: dict[str, tuple[str, ...]] | None = None) -> dict[str, str]:
    out = {}
    for key, words in table.items():
        for w in words + ((extra or {}).get(key, ())):
            out[w] = key
    return out


COLOR_LOOKUP = {**_invert(COLOR_WORDS, COLOR_PARAPHRASES), **_invert(COLOR_TEST_PARAPHRASES)}
MATERIAL_LOOKUP = {**_invert({k: v.words for k, v in MATERIALS.items()}, MATERIAL_PARAPHRASES),
                   **_invert(MATERIAL_TEST_PARAPHRASES), **{v.adjective: k for k, v in MATERIALS.items()}}
SIZE_LOOKUP = {**_invert(SIZE_WORDS, SIZE_PARAPHRASES), **_invert(SIZE_TEST_PARAPHRASES)}
SHAPE_LOOKUP = _invert(SHAPE_WORDS)
NUMBER_LOOKUP = {**{w: n for n, w in NUMBER_WORDS.items()}, **{str(n): n for n in NUMBER_WORDS}}
STOPWORDS = frozenset("a an the of with and in on beside next to made from its it is as for by one single toy 3d model"
                      .split())


def _category_phrases() -> list[tuple[tuple[str, ...], str, str]]:
    """(words, category, how) for every name, longest first."""
    phrases = []
    for name, info in CATEGORIES.items():
        for text, how in [(w, "name" if w == info.noun else "synonym") for w in info.words] + \
                         [(p, "synonym") for p in info.paraphrases + info.test_paraphrases]:
            phrases.append((tuple(hyphenated_words(text)), name, how))
    return sorted(phrases, key=lambda p: -len(p[0]))


_PHRASES: dict[int, list[tuple[tuple[str, ...], str, str]]] = {}  # registry revision → phrases


@dataclass
class ParsedPrompt:
    """What a prompt asks for; ``None`` fields are left to the seeded program."""

    text: str
    category: str
    matched_by: str  # "name", "synonym" or "nearest"
    color: str | None = None
    material: str | None = None
    size: str | None = None
    shape: str | None = None
    part_colors: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    partner: str | None = None
    partner_color: str | None = None
    similarity: float | None = None


def _find_categories(words: list[str]) -> list[tuple[int, int, str, str]]:
    """(start, end, category, how) of non-overlapping category mentions, in text order."""
    taken = [False] * len(words)
    found = []
    if revision() not in _PHRASES:  # a category registered since: read every name again
        _PHRASES.clear()
        _PHRASES[revision()] = _category_phrases()
    for phrase, name, how in _PHRASES[revision()]:
        n = len(phrase)
        for i in range(len(words) - n + 1):
            if tuple(words[i:i + n]) == phrase and not any(taken[i:i + n]):
                found.append((i, i + n, name, how))
                for k in range(i, i + n):
                    taken[k] = True
    return sorted(found)


def category_by_noun_similarity(text: str) -> tuple[str, float]:
    """The category whose "a <noun>" is closest to ``text`` by MiniLM cosine, and that cosine."""
    from text3d.encoders.minilm import shared_text_encoder

    encoder = shared_text_encoder()
    names = list(CATEGORIES)
    anchors = encoder.sentence_vectors([f"a {CATEGORIES[n].noun}" for n in names])
    query = encoder.sentence_vectors([text])[0]
    scores = anchors @ query
    best = int(np.argmax(scores))
    return names[best], float(scores[best])


def parse_prompt(text: str) -> ParsedPrompt:
    """Parse ``text``; never fails (unknown objects map to the nearest category)."""
    words = hyphenated_words(text)
    mentions = _find_categories(words)
    in_category = {k for s, e, _, _ in mentions for k in range(s, e)}
    if mentions:
        category, how = mentions[0][2], mentions[0][3]
        parsed = ParsedPrompt(text, category, how)
    else:
        content = [w for w in words if w not in STOPWORDS and w not in COLOR_LOOKUP and w not in MATERIAL_LOOKUP
                   and w not in SIZE_LOOKUP and w not in SHAPE_LOOKUP and w not in NUMBER_LOOKUP]
        category, score = category_by_noun_similarity(" ".join(content) or text)
        parsed = ParsedPrompt(text, category, "nearest", similarity=round(score, 4))
    if len(mentions) > 1 and mentions[1][2] != parsed.category:
        parsed.partner = mentions[1][2]
    parts = {p for p in CATEGORIES[parsed.category].parts}
    part_words = {w: p for p in parts for w in [p, singular(p)]}
    for i, word in enumerate(words):
        if i in in_category:
            continue
        nxt = words[i + 1] if i + 1 < len(words) else ""
        nxt2 = " ".join(words[i + 1:i + 3])
        if word in COLOR_LOOKUP:
            color = COLOR_LOOKUP[word]
            target = part_words.get(nxt) or part_words.get(nxt2) or (
                part_words.get(words[i + 2]) if i + 2 < len(words) and nxt in MATERIAL_LOOKUP else None)
            if target:
                parsed.part_colors.setdefault(target, color)
            elif parsed.partner and i >= mentions[0][1] and parsed.partner_color is None:
                parsed.partner_color = color  # "blue sailboat beside red chair": red is the chair's
            elif parsed.color is None:
                parsed.color = color
        elif word in MATERIAL_LOOKUP and parsed.material is None and not part_words.get(nxt):
            parsed.material = MATERIAL_LOOKUP[word]
        elif word in SIZE_LOOKUP and parsed.size is None:
            parsed.size = SIZE_LOOKUP[word]
        elif word in SHAPE_LOOKUP and parsed.shape is None:
            parsed.shape = SHAPE_LOOKUP[word]
        elif word in NUMBER_LOOKUP and (part_words.get(nxt) or part_words.get(nxt2)):
            parsed.counts[part_words.get(nxt) or part_words[nxt2]] = NUMBER_LOOKUP[word]
    if parsed.color is None and parsed.part_colors:
        parsed.color = next(iter(parsed.part_colors.values()))
    return parsed
