"""Compute-device selection: cpu, cuda or mps, never hard-coded."""

from __future__ import annotations

import importlib.metadata
import os
import sys

from text3d.errors import InputError

OPENMP_WAIT_POLICY = "PASSIVE"
"""text3d's processes let OpenMP threads sleep between parallel regions instead of spinning, unless
the user set ``OMP_WAIT_POLICY``. A parallel region ends when its slowest thread does; a thread that
shares its core with another process (a second job, a training run, a test suite) is late by a time
slice at every region, and spinning siblings take the core it waits for. ``benchmarks/bench_threads.py``
(2 cores, the embedded generator, median s per asset, spinning → sleeping): beside a job with threads of its
own 12.3 → 1.16; beside one busy single-threaded process 1.87–2.23 → 1.19–1.20; on a quiet machine
0.61–0.63 → 0.68–0.69, the price (7–12 %). ``OMP_WAIT_POLICY=ACTIVE`` takes the quiet machine's speed back."""


def prefer_sleeping_openmp() -> None:
    """Set ``OMP_WAIT_POLICY`` to :data:`OPENMP_WAIT_POLICY` for this process and its children unless the
    user set it. Effective only before torch (its OpenMP runtime) is loaded: the console script calls it first."""
    os.environ.setdefault("OMP_WAIT_POLICY", OPENMP_WAIT_POLICY)


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
        return f"cpu ({threads} threads{_wait_policy()})"
    import torch

    device = resolve_device()
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"{device.type} ({torch.get_num_threads()} threads{_wait_policy()})"


def _wait_policy() -> str:
    """", idle OpenMP threads sleep" / ", spin" as ``OMP_WAIT_POLICY`` says; "" when it is unset."""
    policy = os.environ.get("OMP_WAIT_POLICY", "").upper()
    return {"PASSIVE": ", idle OpenMP threads sleep", "ACTIVE": ", idle OpenMP threads spin"}.get(policy, "")
