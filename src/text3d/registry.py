"""Name → factory registries, one per kind of backend ("generator", "augmenter", …).

A backend is one module that registers one name at import time::

    from text3d.registry import generators

    @generators.register("procedural")
    class ProceduralGenerator: ...

Registries discover their backends lazily: the first lookup imports every module of the
registry's package (``text3d.generators`` for ``generators``), so adding a backend touches
no other file. Backend modules keep heavy imports (transformers, torch) inside functions, so
discovery stays cheap. Registering a name twice is an error.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any, Generic, TypeVar

from text3d.errors import InputError

log = logging.getLogger(__name__)
T = TypeVar("T")


def import_submodules(package_name: str) -> list[ModuleType]:
    """Import every public module of ``package_name`` (names not starting with ``_``), in name order.

    The one place text3d discovers modules: backend registries, CLI command modules and
    toyworld's category programs all use it, so adding one is adding one file.
    """
    package = importlib.import_module(package_name)
    names = sorted(info.name for info in pkgutil.iter_modules(package.__path__) if not info.name.startswith("_"))
    return [importlib.import_module(f"{package_name}.{name}") for name in names]


class DuplicateNameError(RuntimeError):
    """Two backends tried to register the same name in one registry."""


class Registry(Generic[T]):
    """A registry of factories of one kind, filled by importing ``packages``."""

    def __init__(self, kind: str, packages: tuple[str, ...]) -> None:
        self.kind = kind
        self._packages = packages
        self._entries: dict[str, Callable[..., T]] = {}
        self._discovered = False
        self._discovering = False
        self._lock = threading.RLock()

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator that registers a factory (usually a class) under ``name``."""

        def decorate(factory: Callable[..., T]) -> Callable[..., T]:
            existing = self._entries.get(name)
            if existing is not None and existing is not factory:
                raise DuplicateNameError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = factory
            return factory

        return decorate

    def _discover(self) -> None:
        if self._discovered:
            return
        with self._lock:  # another thread waits here until every backend is registered (a service's first requests)
            if self._discovered or self._discovering:  # done, or this thread is importing (a nested lookup)
                return
            self._discovering = True
            try:
                for package_name in self._packages:
                    import_submodules(package_name)
            finally:
                self._discovering = False
                self._discovered = True

    def names(self) -> list[str]:
        """All registered names, sorted."""
        self._discover()
        return sorted(self._entries)

    def get(self, name: str) -> Callable[..., T]:
        """The factory registered as ``name``; a one-line :class:`InputError` if unknown."""
        self._discover()
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise InputError(f"unknown {self.kind} {name!r} (known: {known})") from None

    def create(self, name: str, **kwargs: Any) -> T:
        """Build the backend registered as ``name`` with ``kwargs``."""
        return self.get(name)(**kwargs)
