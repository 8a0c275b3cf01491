"""User-facing errors.

Every error a user can cause (a bad file, a bad option, a missing model) is raised as a
:class:`Text3DError` subclass whose message is one line naming the input and the problem.
The CLI prints that line and exits non-zero; it never shows a traceback for these.

Exit codes of the ``text3d`` command (README "Failure behaviour"):

====  ==================================================================================
0     success
1     a batch finished, but some of its items failed (their rows say why); rerun to retry
2     bad input: a usage error, a bad value, a bad or missing file, an output that would
      lose a file, an operating-system error on a path the user named
3     a model or optional package is not available offline
4     a backend (LLM server, renderer) failed or did not answer in time
5     the output is in use by another text3d process (see :class:`BusyError`)
70    an internal error (a bug): ``TEXT3D_DEBUG=1`` shows the traceback
130   interrupted (Ctrl-C); finished work is kept and the same command resumes
====  ==================================================================================
"""

from __future__ import annotations


class Text3DError(Exception):
    """Base class for errors whose message is meant for the user."""

    exit_code: int = 2


class InputError(Text3DError):
    """A file, prompt or option the user gave is missing, malformed or out of range."""


class SettingsMismatchError(InputError):
    """An output folder holds a job made with other settings; ``differs`` names them."""

    def __init__(self, message: str, differs: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.differs = differs


class ModelNotAvailableError(Text3DError):
    """A model's weights or its optional dependency cannot be found offline."""

    exit_code = 3


class BackendError(Text3DError):
    """A remote or local backend (LLM server, renderer) failed."""

    exit_code = 4


class BusyError(Text3DError):
    """Another process holds the lock of the output folder or file."""

    exit_code = 5


EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


def one_line(text: str, limit: int = 300) -> str:
    """Collapse ``text`` to a single line of at most ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
