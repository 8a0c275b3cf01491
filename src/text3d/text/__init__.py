"""Plain-English text handling shared by toyworld, the caption rules and the augmenters:
tokenizing and word counts (:mod:`~text3d.text.tokens`), inflection
(:mod:`~text3d.text.inflection`) and noun phrases (:mod:`~text3d.text.phrases`).

A bottom layer: it imports only the standard library."""

from text3d.text.inflection import (
    LEMMA_RULES,
    MORPHY_RULES,
    SINGULAR_RULES,
    SuffixRule,
    lemma_forms,
    morphy_candidates,
    plural,
    singular,
)
from text3d.text.phrases import article, join_phrases, with_article
from text3d.text.tokens import (
    MAX_CAPTION_WORDS,
    MAX_PROMPT_WORDS,
    hyphenated_words,
    prompt_tokens,
    word_count,
    words,
)

__all__ = ["LEMMA_RULES", "MAX_CAPTION_WORDS", "MAX_PROMPT_WORDS", "MORPHY_RULES", "SINGULAR_RULES", "SuffixRule",
           "article", "hyphenated_words", "join_phrases", "lemma_forms", "morphy_candidates", "plural",
           "prompt_tokens", "singular", "with_article", "word_count", "words"]
