"""The executor protocol: map one pipeline stage over the items of a batch.

A :class:`Stage` is two picklable module-level callables: ``setup()`` loads the stage's models
(a generator, a renderer) and ``run(state, item)`` processes one item with them, writing its
files into the item's folder of the run-folder contract and returning a small result (a
manifest row). An executor calls ``setup`` once per worker and ``run`` once per item, and
yields ``(index, result)`` pairs as items finish; the caller writes each manifest row as it
arrives, so a killed batch keeps every finished item and a rerun skips them (the caller
chooses the items: resume is the caller's, not the executor's).

Executors are registered by name (``executors``): ``local`` runs in this process in item
order; ``ray`` schedules actors on a Ray cluster. ``--executor ray:ADDRESS`` names a cluster
(:func:`create_executor` splits the spec at the first ``:``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from text3d.errors import InputError
from text3d.registry import Registry

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Stage(Generic[S, T, R]):
    """One stage of the pipeline, mapped over items.

    ``setup`` and ``run`` must pickle (module-level functions, ``functools.partial`` of them):
    the ray executor sends them to its workers. ``gpu`` marks a stage that runs on ``device``
    (see :meth:`wants_gpu`); ``cpus`` is the CPU share of one worker."""

    name: str
    setup: Callable[[], S]
    run: Callable[[S, T], R]
    gpu: bool = False
    device: str | None = None
    cpus: float = 1.0

    def wants_gpu(self, gpus_available: bool) -> bool:
        """True when each worker needs a GPU: a GPU stage whose device is CUDA (``cuda``, ``cuda:1``), or
        left automatic (None) where the workers have GPUs (they, not the caller, pick the device)."""
        if not self.gpu:
            return False
        return self.device.startswith("cuda") if self.device is not None else gpus_available


class Executor(Protocol):
    """Maps a :class:`Stage` over items; see the module docstring."""

    name: str

    def map(self, stage: Stage[Any, T, R], items: Sequence[T], progress: bool | None = None) -> Iterator[tuple[int, R]]:
        """Yield ``(index into items, result)`` as items finish (in any order)."""
        ...

    def describe(self) -> str:
        """One line naming the executor and where it runs."""
        ...


executors: Registry[Executor] = Registry("executor", ("text3d.executors",))


def check_executor(spec: str | Executor | None) -> tuple[str, str | None]:
    """:func:`parse_executor`, and a cluster address that answers no TCP connection refused in one line."""
    name, address = parse_executor(spec)
    factory = executors.get(name)
    if address is not None and hasattr(factory, "check_address"):  # refused before any output
        factory.check_address(address)
    return name, address


def parse_executor(spec: str | Executor | None) -> tuple[str, str | None]:
    """(name, address or None) of an ``--executor`` spec; a one-line :class:`InputError` for an unknown
    name or a misplaced address. Nothing starts, nothing is contacted."""
    if spec is None or not isinstance(spec, str):
        return (getattr(spec, "name", "local"), None)
    name, sep, address = spec.strip().partition(":")
    if sep and not address.strip():
        raise InputError(f"--executor {spec!r}: give an address after ':' (e.g. ray:auto) or none")
    try:
        factory = executors.get(name)
    except InputError as exc:
        raise InputError(f"--executor {spec!r}: {exc}") from None
    if sep and not getattr(factory, "takes_address", False):
        raise InputError(f"--executor {spec!r}: the {name} executor takes no address")
    return name, (address.strip() if sep else None)


def create_executor(spec: str | Executor | None = None) -> Executor:
    """``local``, ``ray`` or ``ray:ADDRESS`` (e.g. ``ray:auto``, ``ray:ray://head:10001``) → an executor;
    an executor passes through and None is ``local``."""
    if spec is not None and not isinstance(spec, str):
        return spec
    name, address = parse_executor(spec or "local")
    factory = executors.get(name)
    return factory(address=address) if address is not None else factory()


def executor_names() -> list[str]:
    """Registered executor names."""
    return executors.names()


@contextmanager
def using_executor(spec: str | Executor | None = None) -> Iterator[Executor]:
    """The executor of ``spec`` for a ``with`` block; one created here (from a name) is closed at its end,
    one passed in is left to its owner (a study shares one over many batches)."""
    executor = create_executor(spec)
    try:
        yield executor
    finally:
        if executor is not spec:
            close = getattr(executor, "close", None)
            if close is not None:
                close()
