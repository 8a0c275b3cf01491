"""The limits every entry point enforces on user values, stated once.

The CLI declares its options with these bounds (typer's ``min``/``max``), and the library
functions that take the same values check them with :func:`check_range` /
:func:`check_finite`, so ``text3d generate --steps 0`` and ``generate(…, steps=0)`` fail
with the same one-line :class:`~text3d.errors.InputError`. Upper limits exist where a value
only costs memory or time past them (``--candidates 1000`` needed 2.1 GB and never ended).
"""

from __future__ import annotations

import math
import unicodedata
from pathlib import Path

from text3d.errors import InputError
from text3d.text import word_count

MAX_SEED = 2**63 - 1
"""RNG seeds are integers in [0, 2⁶³ − 1]; a batch's last seed (seed + n − 1) must fit too."""
MAX_STEPS = 500
"""Sampling steps of a generator (the embedded one uses 8, TRELLIS 12–50)."""
MAX_CANDIDATES = 32
"""Best-of-K samples drawn in one batch."""
MAX_CFG = 100.0
MAX_RESOLUTION = 4096
MIN_RESOLUTION = 16
MAX_FRAMES = 720
"""Turntable frames (two per degree)."""
MAX_POINTS = 100_000
"""Points of one cloud after farthest point sampling."""
MAX_ITEMS = 1_000_000
"""Items of one batch, data set build or study."""
MAX_WORKERS = 256
MAX_TEMPERATURE = 2.0
"""The OpenAI API's range of sampling temperatures is [0, 2]."""
MAX_TOKENS = 32_768
MAX_RETRIES = 10
MAX_CAPTION_WORDS_LIMIT = 200
"""Most words a user may allow a caption (77 CLIP tokens hold about 60)."""
MAX_TIMEOUT_S = 3600.0
MAX_PROMPT_WORDS_INPUT = 60
"""Most words of a prompt, everywhere a prompt enters (augment, generate, batches): a short
prompt is 3–6 words; past 60 it is a caption already and the caption rules cannot keep it."""
MAX_PROMPT_CHARS = 600


def check_range(name: str, value: float | int | None, low: float | int | None = None,
                high: float | int | None = None) -> None:
    """Raise :class:`InputError` unless ``low ≤ value ≤ high`` (``None`` value or bound: unchecked)."""
    if value is None:
        return
    check_finite(name, value)
    if low is not None and value < low:
        raise InputError(f"{name} {value}: must be at least {low}")
    if high is not None and value > high:
        raise InputError(f"{name} {value}: must be at most {high:,}")


def check_finite(name: str, value: float | int | None) -> None:
    """Raise :class:`InputError` for NaN or ±inf."""
    if value is not None and isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"{name} {value}: must be a finite number")


def check_seed(name: str, seed: int, count: int = 1) -> None:
    """Seeds ``seed … seed + count − 1`` must lie in [0, :data:`MAX_SEED`]."""
    if seed < 0 or seed > MAX_SEED:
        raise InputError(f"{name} {seed}: must be in [0, 2^63 - 1]")
    if count > 1 and seed + count - 1 > MAX_SEED:
        raise InputError(f"{name} {seed}: the last of {count:,} seeds (seed + {count - 1:,}) passes 2^63 - 1")


def check_prompt_file_type(path: Path) -> None:
    """Refuse a table (``.csv`` / ``.tsv``) given as a prompts file: read line by line, its header
    and quoting would become prompts."""
    if path.suffix.lower() in (".csv", ".tsv"):
        raise InputError(f"{path}: a CSV table, which would be read line by line as prompts (its header and quotes "
                         "too); give one prompt per line (.txt) or JSON lines with a 'prompt' field (.jsonl)")


def check_prompt_size(prompt: str, label: str = "prompt") -> None:
    """A prompt of more than :data:`MAX_PROMPT_WORDS_INPUT` words or :data:`MAX_PROMPT_CHARS`
    characters is refused (the same limit for augment, generate and batches), and so is one with a
    control character (a prompt is one line of text; tab is allowed), a lone surrogate, or nothing
    visible (only spaces and format characters such as U+200B)."""
    for char in prompt:
        category = unicodedata.category(char)
        if (category == "Cc" and char != "\t") or category == "Cs":
            kind = "an unpaired surrogate" if category == "Cs" else "the control character"
            raise InputError(f"{label} has {kind} U+{ord(char):04X}: give one line of text")
    if prompt and all(c.isspace() or unicodedata.category(c) == "Cf" for c in prompt):
        raise InputError(f"{label} is empty (only invisible characters)")
    words = word_count(prompt)
    if words > MAX_PROMPT_WORDS_INPUT:
        raise InputError(f"{label} has {words:,} words, more than {MAX_PROMPT_WORDS_INPUT}: "
                         "give a short description of one object")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InputError(f"{label} has {len(prompt):,} characters, more than {MAX_PROMPT_CHARS}")

MIN_ENCODER_INSTANCES = 90
"""The fewest held-out instances ``text3d encoders evaluate`` measures: two per toyworld category."""
