"""Loading user-supplied ``.pth`` state dicts into text3d's own networks, with one-line errors."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from text3d.encoders.base import not_available
from text3d.errors import InputError


def load_state_dict_file(path: str | None, extractor: str, how: str) -> dict[str, Any]:
    """The tensors of a weights file (a state dict, or a checkpoint holding one under
    ``model_state_dict`` / ``state_dict``); ModelNotAvailableError if no file is given or found."""
    import torch

    if not path:
        raise not_available(extractor, "no file was given", how)
    file = Path(path).expanduser()
    if not file.is_file():
        raise not_available(extractor, f"no file {file}", how)
    try:
        checkpoint = torch.load(str(file), map_location="cpu", weights_only=True)
    except (RuntimeError, OSError, ValueError, EOFError, pickle.UnpicklingError) as exc:
        raise InputError(f"extractor {extractor!r}: cannot read weights {file}: {type(exc).__name__}") from exc
    for key in ("model_state_dict", "state_dict"):
        if isinstance(checkpoint, dict) and isinstance(checkpoint.get(key), dict):
            checkpoint = checkpoint[key]
    if not isinstance(checkpoint, dict) or not checkpoint:
        raise InputError(f"extractor {extractor!r}: {file} holds no state dict")
    return {k.removeprefix("module."): v for k, v in checkpoint.items()}


def load_into(module: torch.nn.Module, state: dict[str, Any], extractor: str, source: str) -> None:  # noqa: F821
    """Load ``state`` strictly (BatchNorm ``num_batches_tracked`` may be absent)."""
    result = module.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        detail = (f"missing {missing[:3]}" if missing else "") + (
            f" unexpected {result.unexpected_keys[:3]}" if result.unexpected_keys else "")
        raise InputError(f"extractor {extractor!r}: {source} does not match the network ({detail.strip()})")
