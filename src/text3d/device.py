"""Compute-device selection: cpu, cuda or mps, never hard-coded."""

from __future__ import annotations

import importlib.metadata
import os
import sys

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
    except RuntimeError:  # torch lists every backend it was built with (xla, lazy, …): not a user's choice
        raise InputError(f"device {name!r}: not a device; use cpu, cuda, cuda:N or mps") from None
    if device.type not in ("cpu", "cuda", "mps"):
        raise InputError(f"device {name!r}: not supported here; use cpu, cuda, cuda:N or mps")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {name!r}: CUDA is not available on this machine")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise InputError(f"device {name!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise InputError(f"device {name!r}: MPS is not available on this machine")
    return device


def _accelerator_possible() -> bool:
    """Whether torch could see an accelerator, decided without importing torch (≈ 2 s cold):
    a CPU build of torch (version ``+cpu``) on Linux without NVIDIA device files cannot."""
    if sys.platform == "darwin":
        return True  # MPS: only torch can tell
    try:
        version = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return False
    if version.endswith("+cpu"):
        return False
    return any(os.path.exists(p) for p in ("/dev/nvidia0", "/proc/driver/nvidia", "/dev/kfd"))


def describe_device() -> str:
    """A short human description of the automatically chosen device."""
    if not os.environ.get("TEXT3D_DEVICE") and not _accelerator_possible():
        threads = os.environ.get("OMP_NUM_THREADS") or str(len(os.sched_getaffinity(0)))
        return f"cpu ({threads} threads)"
    import torch

    device = resolve_device()
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"{device.type} ({torch.get_num_threads()} threads)"
