"""Compute-device selection: cpu, cuda or mps, never hard-coded."""

from __future__ import annotations

import os

from text3d.errors import InputError


def resolve_device(requested: str | None = None) -> "torch.device":  # noqa: F821
    """Return a torch device: ``requested`` if given and available, else cuda > mps > cpu.

    ``TEXT3D_DEVICE`` in the environment overrides the automatic choice.
    """
    import torch

    name = requested or os.environ.get("TEXT3D_DEVICE") or "auto"
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise InputError(f"device {name!r}: {exc}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {name!r}: CUDA is not available on this machine")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise InputError(f"device {name!r}: MPS is not available on this machine")
    return device


def describe_device() -> str:
    """A short human description of the automatically chosen device."""
    import torch

    device = resolve_device()
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"{device.type} ({torch.get_num_threads()} threads)"
