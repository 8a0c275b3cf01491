"""Checks of the pipeline's arguments, each refused in one line before any model loads.

The Python API's types (:func:`check_arguments`), the prompt (:func:`check_prompt`), the
conditioning (:func:`check_conditioning`), the augmenter spec (:func:`check_augment`) and the
sampling settings (:func:`check_settings`); the CLI, the service and the studies call the same ones.
"""

from __future__ import annotations

import os
from numbers import Integral, Real
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from text3d.errors import InputError
from text3d.generators.base import generators
from text3d.limits import (
    MAX_CANDIDATES,
    MAX_CFG,
    MAX_RESOLUTION,
    MAX_STEPS,
    MIN_RESOLUTION,
    check_prompt_size,
    check_range,
)
from text3d.prompts.base import augmenters, parse_llm_spec

if TYPE_CHECKING:
    from text3d.align.sampling import TokenSource


def check_arguments(augment: Any, backend: Any, seed: Any, steps: Any, cfg: Any, candidates: Any, resolution: Any,
                    views: Any, conditioning: Any, out: Any = None, **switches: Any) -> None:
    """The Python API's types, refused in one line naming the argument before any model loads
    (the CLI's options arrive typed; a caller's ``seed=1.5`` or ``views="canonical4"`` does not).
    ``switches`` (``gif``, ``overwrite``) must be True or False: ``overwrite="no"`` is a true string."""
    if out is not None and not isinstance(out, (str, os.PathLike)):
        raise InputError(f"out {out!r}: expected a folder path (str or Path), got {type(out).__name__}")
    for name, value in switches.items():
        if not isinstance(value, (bool, np.bool_)):
            raise InputError(f"{name} {value!r}: expected True or False (bool), got {type(value).__name__}")
    for name, value in (("augment", augment), ("backend", backend), ("conditioning", conditioning)):
        if not isinstance(value, str):
            raise InputError(f"{name} {value!r}: expected a name (str), got {type(value).__name__}")
    for name, value in (("seed", seed), ("steps", steps), ("candidates", candidates), ("resolution", resolution)):
        if (value is not None or name == "seed") and (isinstance(value, bool) or not isinstance(value, Integral)):
            raise InputError(f"{name} {value!r}: expected a whole number (int), got {type(value).__name__}")
    if cfg is not None and (isinstance(cfg, bool) or not isinstance(cfg, Real)):
        raise InputError(f"cfg {cfg!r}: expected a number, got {type(cfg).__name__}")
    if isinstance(views, str) or not isinstance(views, (list, tuple)) or not all(isinstance(v, str) for v in views):
        raise InputError(f"views {views!r}: expected a list of view protocol names, e.g. ('canonical4',)")


def check_prompt(prompt: str) -> None:
    """Refuse an empty prompt and one past the shared size limits (:mod:`text3d.limits`)."""
    if not isinstance(prompt, str):
        raise InputError(f"prompt {prompt!r:.60}: expected text (str), got {type(prompt).__name__}")
    if not prompt or not prompt.strip():
        raise InputError("prompt is empty")
    check_prompt_size(prompt)


CONDITIONINGS = ("text", "gap3d")
"""What conditions the generator: its own text path, or GAP3D's image-encoder tokens generated from the caption."""


def check_conditioning(conditioning: str, backend: str, aligner: str | Path | TokenSource | None = None) -> None:
    """Refuse an unknown conditioning, ``gap3d`` for a backend that takes no image-encoder tokens, and an
    aligner without ``gap3d``."""
    if aligner is not None and conditioning != "gap3d":
        raise InputError(f"--aligner {aligner}: an aligner is used only with --conditioning gap3d")
    if aligner is not None and not isinstance(aligner, (str, Path)) and not callable(aligner):
        raise InputError(f"aligner {aligner!r}: expected an aligner folder or a token source (caption → tokens)")
    if conditioning not in CONDITIONINGS:
        raise InputError(f"--conditioning {conditioning!r}: use one of {', '.join(CONDITIONINGS)}")
    if conditioning == "gap3d" and not generators.get(backend).token_conditioned:
        takes = ", ".join(n for n in generators.names() if generators.get(n).token_conditioned)
        raise InputError(f"--conditioning gap3d: backend {backend!r} takes no image-encoder tokens (use {takes})")


def check_augment(augment: str, option: str = "--llm") -> None:
    """Refuse, before any output, an augmenter spec its backend would refuse when the first
    prompt is augmented: an unknown backend, a missing model (``ollama:``), a model for a
    backend that takes none (``none:foo``), another version of the embedded one. The one-line
    error names ``option``, where the spec came from (``--augment``, a request's ``augment``).

    The backend's own constructor is the check, so the words are the ones a run would print.
    It is built only where that loads nothing: with no model (every backend refuses a missing
    model before it connects or loads), or when it takes no option but its model. A backend with
    a ``check_model(name)`` resolves a local model's name there (a packaged tag, a file, a cached
    hub id) without loading it; a server's model is checked when the run first uses it."""
    try:
        _check_augment(augment, option)
    except InputError as error:
        message = str(error)
        if message.startswith("--llm ") and option != "--llm":  # the backends' own words name --llm
            message = option + message[len("--llm"):]
        raise InputError(message if message.startswith(option) else f"{option} {augment}: {message}") from None


def _check_augment(augment: str, option: str) -> None:
    import inspect

    spec = parse_llm_spec(augment, option)
    factory = augmenters.get(spec.backend)
    if spec.model:
        try:
            options = set(inspect.signature(factory).parameters) - {"model"}
        except (TypeError, ValueError):
            options = {"unknown"}  # no signature to read: assume it may load something
        if options:  # a server or a model file: resolved by name only where the backend can (loads nothing)
            checker = getattr(factory, "check_model", None)
            if checker is not None:
                checker(spec.model)
            return
    factory(model=spec.model)


def check_settings(steps: int | None, cfg: float | None, candidates: int | None,
                   resolution: int | None = None) -> None:
    """Refuse sampling settings outside :mod:`text3d.limits` (the CLI's option ranges)."""
    check_range("steps", steps, 1, MAX_STEPS)
    check_range("cfg", cfg, 0.0, MAX_CFG)
    check_range("candidates", candidates, 1, MAX_CANDIDATES)
    check_range("resolution", resolution, MIN_RESOLUTION, MAX_RESOLUTION)
