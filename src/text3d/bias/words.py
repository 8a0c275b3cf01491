"""Token attributions summed to words, and the most / least significant content words.

A word is a maximal run of letters and digits, joined by inner apostrophes or hyphens
("toy-like", "it's"). Sub-word pieces (WordPiece ``##pot``, CLIP BPE pieces) are assigned to the
word whose character span contains theirs, and a word's attribution is the sum of its pieces'
e'_i (the seed paper's aggregation of token gradients to the word level). Pieces outside every
word (special tokens, punctuation) are left out. Content words are the words outside the closed
list of function words and multi-word prepositions ("next to") of :mod:`text3d.prompts.words`;
w_h is the content word with the largest attribution and w_l the one with the smallest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from text3d.prompts.words import function_mask

_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")


@dataclass(frozen=True)
class WordScore:
    """One word of a prompt: its text, character span, summed attribution, pieces and content flag."""

    word: str
    start: int
    end: int
    value: float
    pieces: tuple[str, ...]
    content: bool


def word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word of ``text``, in order."""
    return [m.span() for m in _WORD.finditer(text)]


def aggregate_words(text: str, pieces: Sequence[str], offsets: Sequence[tuple[int, int]],
                    values: Sequence[float] | np.ndarray) -> list[WordScore]:
    """Sum the per-piece ``values`` (L,) into the words of ``text``: a piece belongs to the word whose
    span holds its span's start (pieces with an empty span, (0, 0), belong to none)."""
    if not (len(pieces) == len(offsets) == len(values)):
        raise ValueError(f"{len(pieces)} pieces, {len(offsets)} offsets and {len(values)} values differ in length")
    spans = word_spans(text)
    sums = [0.0] * len(spans)
    members: list[list[str]] = [[] for _ in spans]
    starts = np.array([s for s, _ in spans], dtype=np.int64)
    for piece, (start, end), value in zip(pieces, offsets, values):
        if end <= start or not spans:
            continue
        index = int(np.searchsorted(starts, start, side="right")) - 1
        if index < 0 or start >= spans[index][1]:
            continue  # punctuation between words
        sums[index] += float(value)
        members[index].append(piece)
    function = function_mask([text[s:e].lower() for s, e in spans])
    return [WordScore(text[s:e], s, e, sums[i], tuple(members[i]), not function[i])
            for i, (s, e) in enumerate(spans)]


def extreme_words(words: Sequence[WordScore]) -> tuple[WordScore | None, WordScore | None]:
    """(w_h, w_l): the content words with the largest and the smallest attribution (the first in
    the prompt on ties); all words when none is a content word; (None, None) for no words."""
    pool = [w for w in words if w.content] or list(words)
    if not pool:
        return None, None
    high = max(pool, key=lambda w: w.value)
    low = min(pool, key=lambda w: w.value)
    return high, low
