"""Benchmark: the embedded generator's seconds per asset by torch thread count and OpenMP wait
policy, on a quiet machine and beside one busy process (another job on one of the cores).

OpenMP threads that spin between parallel regions, and more threads than free cores, are the two
ways a CPU job loses to a neighbour: a parallel region ends only when its slowest thread does, and a
thread the scheduler set aside is late by a time slice. Each configuration runs in a process of its
own (the OpenMP runtime reads its environment once) and generates the same prompts after a
warm-up; the busy neighbour is a Python loop started before and stopped after it. Ratios are
against the first row (the default: all cores, the runtime's own wait policy) measured in the same run.

    .venv/bin/python benchmarks/bench_threads.py [--n 8]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

PROMPTS = ["small blue sailboat", "red wooden chair", "tall green pine tree", "yellow rubber duck",
           "black metal lamp", "white ceramic teapot", "orange toy truck", "purple teddy bear"]

CHILD = """
import json, sys, time
from text3d.runs.pipeline import Pipeline
prompts, n = json.loads(sys.argv[1]), int(sys.argv[2])
pipeline = Pipeline(backend="embedded", augment="embedded")
pipeline(prompts[0], seed=0)  # warm-up: the models are loaded
times = []
for i in range(n):
    start = time.perf_counter()
    pipeline(prompts[(i + 1) % len(prompts)], seed=1000 + i)
    times.append(time.perf_counter() - start)
import torch
print(json.dumps({"times": times, "threads": torch.get_num_threads()}))
"""

BUSY = "while True: pass"


def run_config(n: int, threads: int | None, policy: str | None, busy: bool) -> dict:
    """Seconds per asset of one configuration (its own process)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    neighbour = subprocess.Popen([sys.executable, "-c", BUSY]) if busy else None
    try:
        time.sleep(0.5 if busy else 0.0)
        out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(PROMPTS), str(n)], env=env, check=True,
                             capture_output=True, text=True).stdout
    finally:
        if neighbour is not None:
            neighbour.kill()
            neighbour.wait()
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=8, help="assets per configuration after the warm-up")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    print(f"{cores} cores, load average at the start {os.getloadavg()[0]:.2f} (should be < 0.5: nothing else running)")
    configs = [(None, None), (None, "PASSIVE"), (1, None), (1, "PASSIVE")]
    rows = []
    for busy in (False, True):
        for threads, policy in configs:
            result = run_config(args.n, threads, policy, busy)
            rows.append((busy, threads or result["threads"], policy or "default", statistics.median(result["times"])))
    print(f"embedded generator, best-of-6, {args.n} assets after a warm-up; median s per asset")
    print(f"{'neighbour':>10s} {'threads':>8s} {'OMP_WAIT_POLICY':>16s} {'median s':>9s} {'vs default quiet':>17s}")
    base = rows[0][3]
    for busy, threads, policy, median in rows:
        print(f"{'busy' if busy else 'none':>10s} {threads:8d} {policy:>16s} {median:9.3f} {base / median:16.2f}x")


if __name__ == "__main__":
    main()
