"""The shared worker map keeps job order, in this process and in spawned workers."""

import os

from text3d.train.pool import map_in_workers


def _square_and_threads(x: int) -> tuple[int, str | None]:
    return x * x, os.environ.get("OMP_NUM_THREADS")


def test_results_come_back_in_job_order_in_process_and_in_workers():
    jobs = list(range(7))
    serial = map_in_workers(_square_and_threads, jobs, "squares", workers=1, progress=False)
    assert [r[0] for r in serial] == [x * x for x in jobs]
    spawned = map_in_workers(_square_and_threads, jobs, "squares", workers=2, progress=False, chunksize=2)
    assert [r[0] for r in spawned] == [x * x for x in jobs]
    assert {r[1] for r in spawned} == {"1"}  # each worker runs one torch/OpenMP thread
    few = map_in_workers(_square_and_threads, jobs, "squares", workers=2, progress=False, serial_below=8)
    assert [r[1] for r in few] == [r[1] for r in serial]  # fewer jobs than serial_below: in this process
