"""Tokenizing and counting words, and the word limits of prompts and captions.

Three tokenizers serve three readers, each defined here once:

* :func:`words` — lower-cased letter/digit runs (hyphens split, "'s" dropped): the content
  words the caption rules compare;
* :func:`prompt_tokens` — whitespace-separated tokens with commas and semicolons on their own,
  case kept: what the embedded augmenter reads object phrases from;
* :func:`hyphenated_words` — lower-case ASCII words, hyphenated and apostrophe words kept
  whole ("t-shirt", "o'clock"): what toyworld's prompt parser matches its vocabulary against.

:func:`word_count` is the one word count: whitespace-separated tokens holding a letter or digit
("Parts - hull" is two words).
"""

from __future__ import annotations

import re

MAX_PROMPT_WORDS = 6
"""Words of a protocol prompt (MATE-3D / T³Bench style short prompts)."""
MAX_CAPTION_WORDS = 40
"""Words of a caption (the caption rules; CLIP's 77-token window holds about 60)."""

_COUNTED_WORD = re.compile(r"\S*[^\W_]\S*")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_PROMPT_TOKEN = re.compile(r"[^\s,;]+|[,;]")
_HYPHENATED_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


def word_count(text: str) -> int:
    """Words as the caption rules count them: whitespace-separated, holding a letter or digit."""
    return len(_COUNTED_WORD.findall(text))


def words(text: str) -> list[str]:
    """Lower-cased words of ``text``: letter/digit runs; hyphens split; "'s" dropped."""
    result = []
    for match in _WORD.finditer(text.lower()):
        word = match.group().replace("’", "'").removesuffix("'s")
        if word:
            result.append(word)
    return result


def prompt_tokens(text: str) -> list[str]:
    """Whitespace-separated tokens of ``text`` with "," and ";" as tokens of their own, case kept."""
    return _PROMPT_TOKEN.findall(text)


def hyphenated_words(text: str) -> list[str]:
    """Lower-case ASCII words of ``text``; hyphens and apostrophes inside a word keep it whole."""
    return _HYPHENATED_WORD.findall(text.lower())
