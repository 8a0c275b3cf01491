"""The ``local`` executor: every item in this process, in item order, with one ``setup``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from text3d.executors.base import Stage, executors
from text3d.progress import track

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class LocalConfig:
    """The local executor has no settings: it is the CLI's behaviour without ``--executor``."""


@executors.register("local")
class LocalExecutor:
    """Runs ``stage.setup()`` once (only when there are items) and ``stage.run`` per item."""

    name = "local"
    takes_address = False

    def __init__(self, config: LocalConfig | None = None) -> None:
        self.config = config or LocalConfig()

    def map(self, stage: Stage[Any, T, R], items: Sequence[T], progress: bool | None = None) -> Iterator[tuple[int, R]]:
        """Yield ``(index, stage.run(state, item))`` in item order."""
        if not items:
            return
        state = stage.setup()  # models load once, and only when there is work
        for index, item in track(list(enumerate(items)), description=stage.name, enabled=progress):
            yield index, stage.run(state, item)

    def describe(self) -> str:
        return "local (this process)"

    def close(self) -> None:
        """Nothing to release."""
