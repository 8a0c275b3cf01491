"""Shared helpers for the benchmarks: timing with medians, child-process peak memory."""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable


def median_seconds(fn: Callable[[], object], repeats: int = 15, warmup: int = 2) -> tuple[float, list[float]]:
    """Run ``fn`` ``warmup`` times untimed, then ``repeats`` times; (median, all times) in s."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def peak_rss_of_command(args: list[str]) -> tuple[float, int]:
    """Run ``args`` in a child process; (peak resident memory in MB, exit code).

    ru_maxrss of RUSAGE_CHILDREN is the largest child so far, so call this before any other
    large child process of the same benchmark.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run(args, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
    return max(after, before) / 1024.0, proc.returncode
