"""Shared helpers of the adapters to external generators (TRELLIS, TriplaneTurbo).

Their packages are not on PyPI and need a CUDA GPU; text3d imports them lazily and
turns every way of being absent into one clear :class:`ModelNotAvailableError`.
"""

from __future__ import annotations

import importlib
import tempfile
from pathlib import Path
from types import ModuleType

from text3d.assets.asset import Asset
from text3d.assets.io import load_asset
from text3d.errors import ModelNotAvailableError, one_line


def import_external(module: str, backend: str, how: str) -> ModuleType:
    """Import ``module`` or raise a one-line error saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ModelNotAvailableError(f"{backend}: cannot import {module} ({one_line(str(exc), 80)}); {how}") from None


def load_weights(loader, source: str, backend: str, how: str):
    """Call ``loader(source)``; missing weights (offline, wrong path) become a one-line error."""
    try:
        return loader(source)
    except (OSError, FileNotFoundError, ValueError) as exc:
        raise ModelNotAvailableError(f"{backend}: cannot load weights {source!r} ({one_line(str(exc), 120)}); "
                                     f"{how}") from None


def asset_from_mesh_file(writer, suffix: str, up: str = "y") -> Asset:
    """Let ``writer(path)`` write a mesh file, then load it as a normalized text3d asset."""
    with tempfile.TemporaryDirectory(prefix="text3d-external-") as tmp:
        path = Path(tmp) / f"asset{suffix}"
        writer(path)
        return load_asset(path, up=up).normalized()
