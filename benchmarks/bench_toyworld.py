"""Benchmark: build 1,000 toyworld items with canonical4 views at 128² on all cores.

Target ≤ 3 minutes on 2 cores. Baseline in the same run: the same build with one worker
(the ratio shows what the process pool buys). Points are included as the builder's default;
``--no-points`` is timed too.

    .venv/bin/python benchmarks/bench_toyworld.py [--n 1000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path


def timed_build(n: int, workers: int, points: bool) -> float:
    from text3d.data.toyworld.builder import BuildConfig, build_toyworld

    out = Path(tempfile.mkdtemp(prefix="text3d-bench-toyworld-"))
    start = time.perf_counter()
    summary = build_toyworld(BuildConfig(n=n, views=("canonical4",), resolution=128, points=points, workers=workers),
                             out, progress=False)
    seconds = time.perf_counter() - start
    shutil.rmtree(out, ignore_errors=True)
    if summary["failed"]:
        raise SystemExit(f"{summary['failed']} items failed")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--baseline-n", type=int, default=200, help="items of the one-worker baseline")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"toyworld build, canonical4 at 128², {cores} cores, load {os.getloadavg()[0]:.2f}")
    full = timed_build(args.n, 0, points=True)
    no_points = timed_build(args.n, 0, points=False)
    single = timed_build(args.baseline_n, 1, points=True) * args.n / args.baseline_n
    print(f"{'configuration':44s} {'seconds':>9s} {'items/s':>8s} {'ratio':>7s}")
    for name, seconds in ((f"{cores} workers, views + points (default)", full),
                          (f"{cores} workers, views only (--no-points)", no_points),
                          ("1 worker, views + points (baseline, scaled)", single)):
        print(f"{name:44s} {seconds:9.1f} {args.n / seconds:8.1f} {single / seconds:6.2f}x")
    print(f"target ≤ 180 s for {args.n} items: {'PASS' if full <= 180 else 'FAIL'} ({full:.1f} s)")


if __name__ == "__main__":
    main()
