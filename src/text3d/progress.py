"""Progress bars for long work (rich, on stderr).

Bars show when stderr is a terminal; ``TEXT3D_PROGRESS=0`` hides them and
``TEXT3D_PROGRESS=1`` forces them (e.g. in a CI log).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


def progress_enabled() -> bool:
    flag = os.environ.get("TEXT3D_PROGRESS")
    if flag is not None:
        return flag not in ("0", "false", "no", "")
    return sys.stderr.isatty()


def track(iterable: Iterable[T], total: int | None = None, description: str = "working",
          enabled: bool | None = None) -> Iterator[T]:
    """Yield from ``iterable`` while drawing a progress bar with count, rate and ETA."""
    if not (progress_enabled() if enabled is None else enabled):
        yield from iterable
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(description, total=total if total is not None else _len(iterable))
        for item in iterable:
            yield item
            bar.advance(task)


def _len(iterable: Iterable[object]) -> int | None:
    try:
        return len(iterable)  # type: ignore[arg-type]
    except TypeError:
        return None


@contextmanager
def waiting(description: str, limit_s: float, enabled: bool | None = None) -> Iterator[None]:
    """Show ``description`` with the seconds spent, and the limit, while the block runs."""
    if not (progress_enabled() if enabled is None else enabled):
        yield
        return
    from rich.console import Console

    start = time.monotonic()
    done = threading.Event()
    with Console(stderr=True).status(f"{description} …") as status:
        def tick() -> None:
            while not done.wait(1.0):
                status.update(f"{description}: {time.monotonic() - start:.0f} s (limit {limit_s:.0f} s)")

        thread = threading.Thread(target=tick, daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()
