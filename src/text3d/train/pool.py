"""Rendering training data in worker processes: one map shared by every trainer's data builder."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from text3d.progress import track

J = TypeVar("J")


def _one_thread_worker() -> None:
    # each of the N processes rasterizes and runs torch on one thread: N processes on N cores,
    # not N × (llvmpipe threads + OpenMP threads) fighting over them
    os.environ["LP_NUM_THREADS"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"


def map_in_workers(work: Callable[[J], Any], jobs: Sequence[J], description: str, workers: int = 0,
                   progress: bool | None = None, chunksize: int = 1, serial_below: int = 0) -> list[Any]:
    """``[work(job) for job in jobs]`` in job order, with a progress bar: in this process when
    ``workers`` is 1 or there are fewer than ``serial_below`` jobs, else in ``workers`` spawned
    processes (0 = one per core) of one rendering and one torch thread each. ``work`` must be a
    module-level function (spawned processes import it)."""
    workers = workers or max(1, os.cpu_count() or 1)
    if workers == 1 or len(jobs) < serial_below:
        return list(track(map(work, jobs), total=len(jobs), description=description, enabled=progress))
    with mp.get_context("spawn").Pool(workers, initializer=_one_thread_worker) as pool:
        return list(track(pool.imap(work, jobs, chunksize=chunksize), total=len(jobs), description=description,
                          enabled=progress))
