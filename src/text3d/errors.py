"""User-facing errors.

Every error a user can cause (a bad file, a bad option, a missing model) is raised as a
:class:`Text3DError` subclass whose message is one line naming the input and the problem.
The CLI prints that line and exits non-zero; it never shows a traceback for these.
"""

from __future__ import annotations


class Text3DError(Exception):
    """Base class for errors whose message is meant for the user."""

    exit_code: int = 2


class InputError(Text3DError):
    """A file, prompt or option the user gave is missing, malformed or out of range."""


class ModelNotAvailableError(Text3DError):
    """A model's weights or its optional dependency cannot be found offline."""

    exit_code = 3


class BackendError(Text3DError):
    """A remote or local backend (LLM server, renderer) failed."""

    exit_code = 4


def one_line(text: str, limit: int = 300) -> str:
    """Collapse ``text`` to a single line of at most ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
