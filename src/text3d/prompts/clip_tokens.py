"""How many CLIP text tokens a caption takes (the 77-token window of CLIP ViT-L/14).

Decision: counts come from ``instant-clip-tokenizer`` (MIT, PyPI), a compiled port of
OpenAI's CLIP BPE tokenizer that ships CLIP's 49,408-entry vocabulary and merge list inside
its wheel and depends on numpy only — no torchvision, no model hub. A caption's count is
the BPE tokens of its CLIP-preprocessed text (HTML entities unescaped, whitespace collapsed,
lower-cased, as CLIP's ``SimpleTokenizer`` does; ftfy's mojibake repair is not applied) plus
the start and end tokens, so "fits" means ``count <= 77``.

If that wheel is unavailable on a platform, :func:`clip_token_count` falls back to a
documented upper bound: CLIP's pre-tokenizer pattern, then ``ceil(n / 3)`` tokens for a run
of ``n`` letters, one per digit and one per punctuation character. The tests check that the
bound never under-counts the real tokenizer on realistic captions; it over-counts common
words, so captions are trimmed earlier than necessary, never later.
"""

from __future__ import annotations

import functools
import html
import logging
import math
import re

log = logging.getLogger(__name__)

CLIP_CONTEXT_LENGTH = 77
"""CLIP's text window, start and end tokens included."""

_SPECIAL_TOKENS = 2  # <|startoftext|> and <|endoftext|>
_WHITESPACE = re.compile(r"\s+")
# CLIP's pre-tokenizer: contractions, letter runs, single digits, other non-space runs.
_PRE_TOKENS = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|[^\s\w]+|_+", re.IGNORECASE)


def clip_preprocess(text: str) -> str:
    """CLIP's text normalization: unescape HTML twice, collapse whitespace, lower-case."""
    return _WHITESPACE.sub(" ", html.unescape(html.unescape(text))).strip().lower()


@functools.lru_cache(maxsize=1)
def _tokenizer() -> object | None:
    try:
        from instant_clip_tokenizer import Tokenizer
    except ImportError:
        log.warning("instant-clip-tokenizer is not installed; CLIP token counts use a conservative estimate")
        return None
    return Tokenizer()


def estimate_clip_tokens(text: str) -> int:
    """Upper bound of the CLIP token count of ``text`` (start/end tokens included)."""
    count = _SPECIAL_TOKENS
    for piece in _PRE_TOKENS.findall(clip_preprocess(text)):
        if piece.isalpha():
            count += math.ceil(len(piece) / 3)
        elif piece.startswith("'"):
            count += 1
        else:
            count += len(piece)
    return count


def clip_token_count(text: str) -> int:
    """CLIP BPE tokens of ``text`` including start/end tokens (exact when the tokenizer is installed)."""
    tokenizer = _tokenizer()
    if tokenizer is None:
        return estimate_clip_tokens(text)
    return len(tokenizer.encode(clip_preprocess(text))) + _SPECIAL_TOKENS  # type: ignore[attr-defined]


def fits_clip_window(text: str, limit: int = CLIP_CONTEXT_LENGTH) -> bool:
    """True when ``text`` fits CLIP's window of ``limit`` tokens."""
    return clip_token_count(text) <= limit
