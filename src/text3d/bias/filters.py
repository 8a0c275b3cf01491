"""Automatic filters of context prompts ("Multimodal Semantic Bias Mitigation for Diverse
Text-To-3D Generation", semantic augmentation): a context prompt t_nc of prompt t_n is kept when

* **words**: it holds both w_h and w_l as words, up to inflection ("leg" is kept by "legs",
  "wood" by "wooden": :func:`text3d.text.lemma_forms` on both sides; a hyphenated word must
  appear as its run of words). Equivalents (grey/gray, small/little) do not count: the point is
  that the generator sees the *same* word in a new context;
* **length**: between :attr:`FilterBounds.min_words` and :attr:`FilterBounds.max_words` words
  (:func:`text3d.text.word_count`) and within CLIP's 77-token window, which every text path of
  the generators truncates to;
* **consistency**: MiniLM cosine cos(t_nc, t_n) ≥ :attr:`FilterBounds.min_consistency` (the
  context still describes the prompt's object);
* **diversity**: max MiniLM cosine to the prompt itself and to every context kept before it
  < :attr:`FilterBounds.max_similarity` (no near-copy of the prompt or of another context);
* **echo**: it repeats no 6 consecutive words of the instructions it was sent that are not the
  prompt's own (:func:`text3d.prompts.rules.echoes`, the caption rule's). Small models answer a
  retry by restating it ("That answer was not usable: it had 51 words; write another context for
  sailboat with a yellow flag…"), which holds both words and describes the object well enough to
  pass the other four.

Cosines are of all-MiniLM-L6-v2 sentence vectors (mean-pooled, unit length). The two similarity
bounds were chosen on development-range toyworld instances only (seeds 1,000,000 +, see
:func:`text3d.bias.bounds.measure_bounds` and the constants' comments); nothing was chosen on
the test range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from text3d.prompts.rules import echoes
from text3d.text import lemma_forms, word_count, words

MIN_CONSISTENCY = 0.50
"""Lower bound of cos(t_nc, t_n). Chosen on 300 development-range instances (seeds 1,000,000 …
1,000,006, 45 categories round-robin; :func:`text3d.bias.bounds.measure_bounds`): the bound that
best separates each prompt's own toyworld captions (faithful descriptions of its object, the
positives) from the captions of another category's instance (the negatives) by balanced accuracy
over the grid 0.20 … 0.80 (best 0.51, balanced accuracy 0.968), rounded down to 0.05. At 0.50,
95.4 % of own captions and 2.3 % of other categories' captions pass."""

MAX_SIMILARITY = 0.90
"""Upper bound of the max cosine between a context and the prompt or an earlier context. Chosen
on the same development instances: the 95th percentile of the cosine between two different
toyworld captions of one instance (descriptive / technical / scene styles: texts that differ on
purpose; median 0.78, 95th percentile 0.862), rounded up to 0.05. Near-copies (a caption with its
color word swapped for another color; median 0.94) sit above it 92 % of the time."""

MIN_WORDS = 4
"""Shortest context prompt, in words: the original object's phrase plus some context."""
MAX_WORDS = 40
"""Longest context prompt, in words: the caption limit (:data:`text3d.text.MAX_CAPTION_WORDS`)."""
MAX_CLIP_TOKENS = 77
"""CLIP's context window, counting the start and end tokens."""

FILTERS = ("words", "length", "consistency", "diversity", "echo")
"""The automatic filters, in the order their reasons are listed."""


@dataclass(frozen=True)
class FilterBounds:
    """The bounds of the automatic filters (defaults: the development-range choices above)."""

    min_words: int = MIN_WORDS
    max_words: int = MAX_WORDS
    min_consistency: float = MIN_CONSISTENCY
    max_similarity: float = MAX_SIMILARITY

    def __post_init__(self) -> None:
        if not (1 <= self.min_words <= self.max_words):
            raise ValueError(f"length bounds {self.min_words}–{self.max_words}: need 1 ≤ min ≤ max")
        if not (-1.0 <= self.min_consistency < self.max_similarity <= 1.0):
            raise ValueError(f"similarity bounds {self.min_consistency} / {self.max_similarity}: need "
                             "-1 ≤ min consistency < max similarity ≤ 1")


@dataclass
class FilterReport:
    """One candidate's measurements and verdict; ``reasons`` names each failed filter."""

    text: str
    missing: list[str] = field(default_factory=list)
    words: int = 0
    clip_tokens: int = 0
    consistency: float = 0.0
    similarity: float = 0.0
    passed: dict[str, bool] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.reasons

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["consistency"], data["similarity"] = round(self.consistency, 4), round(self.similarity, 4)
        return data


def _forms(token: str) -> set[str]:
    return lemma_forms(token)


def has_word(word: str, text: str) -> bool:
    """``word`` occurs in ``text`` as a word up to inflection: some word of ``text`` shares a lemma
    form with it ("legs" ∋ leg, "wooden" ∋ wood); a word of several parts ("toy-like") must
    appear as the same run of parts."""
    parts = words(word)
    tokens = words(text)
    if not parts or not tokens:
        return False
    wanted = [_forms(p) for p in parts]
    found = [_forms(t) for t in tokens]
    span = len(parts)
    return any(all(wanted[i] & found[start + i] for i in range(span)) for start in range(len(tokens) - span + 1))


def missing_words(keep: Sequence[str], text: str) -> list[str]:
    """The words of ``keep`` (w_h, w_l; repeats once) that ``text`` lacks."""
    return [w for w in dict.fromkeys(keep) if w and not has_word(w, text)]


def sentence_vectors(texts: Sequence[str]) -> np.ndarray:
    """Unit MiniLM sentence vectors (N, 384) of ``texts`` (the shared CPU encoder, cached per text)."""
    from text3d.encoders.minilm import shared_text_encoder

    return shared_text_encoder("cpu").sentence_vectors(list(texts))


def check_candidate(text: str, prompt: str, keep: Sequence[str], kept: Sequence[str],
                    bounds: FilterBounds = FilterBounds(), vectors: dict[str, np.ndarray] | None = None,
                    instructions: Sequence[str] = ()) -> FilterReport:
    """Run the five filters on ``text`` for ``prompt``: ``keep`` are the words it must hold,
    ``kept`` the contexts already kept for this prompt (the diversity set, with the prompt),
    ``instructions`` the texts the writer was sent (the echo set; none: nothing is an echo).
    ``vectors`` (text → unit vector) may hold precomputed sentence vectors; missing ones are computed."""
    from text3d.prompts.clip_tokens import clip_token_count

    report = FilterReport(text=text, missing=missing_words(keep, text), words=word_count(text),
                          clip_tokens=clip_token_count(text))
    needed = [t for t in dict.fromkeys([text, prompt, *kept]) if vectors is None or t not in vectors]
    table = dict(vectors or {})
    if needed:
        table.update(zip(needed, sentence_vectors(needed)))
    vector = table[text]
    report.consistency = float(vector @ table[prompt])
    report.similarity = max(float(vector @ table[t]) for t in [prompt, *kept])
    report.passed = {
        "words": not report.missing,
        "length": bounds.min_words <= report.words <= bounds.max_words and report.clip_tokens <= MAX_CLIP_TOKENS,
        "consistency": report.consistency >= bounds.min_consistency,
        "diversity": report.similarity < bounds.max_similarity,
        "echo": not echoes(text, instructions, prompt),
    }
    report.reasons = [name for name in FILTERS if not report.passed[name]]
    return report


def reason_text(report: FilterReport, bounds: FilterBounds) -> list[str]:
    """Each failed filter in words (what an LLM is told on a retry)."""
    said = {
        "words": f"it dropped the word{'s' if len(report.missing) > 1 else ''} "
                 + ", ".join(repr(w) for w in report.missing),
        "length": f"it had {report.words} words; write {bounds.min_words} to {bounds.max_words}",
        "consistency": "it drifted away from the object described",
        "diversity": "it was too close to the description or to an earlier context",
        "echo": "it repeated these instructions instead of describing the object",
    }
    return [said[r] for r in report.reasons]
