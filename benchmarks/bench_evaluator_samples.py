"""Benchmark: CPU time of one evaluator training sample (build, degrade, render 4 views; no generator
asset), with crease normals' row deduplication by ``unique_rows`` (a lexsort) against a baseline of
``np.unique(axis=0)`` in this process; both give the same samples. Medians over rounds of training
samples.

    .venv/bin/python benchmarks/bench_evaluator_samples.py [--samples 40] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def numpy_unique_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The baseline: numpy's structured-row sort."""
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def main() -> None:
    import torch

    from text3d.assets import normals
    from text3d.train.evaluator import sample_specs
    from text3d.train.evaluator_config import EvaluatorTrainConfig
    from text3d.train.evaluator_data import make_sample

    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    # the shipped recipe's training samples, none built on the generator's asset (that costs ~0.7 s alone)
    spec = sample_specs(EvaluatorTrainConfig(generated_items=1))["train"]
    make_sample(1000, spec)  # warm-up: imports, category programs
    fast = normals.unique_rows
    seconds: dict[str, list[float]] = {"baseline np.unique": [], "unique_rows": []}
    for r in range(args.rounds):
        indices = range(1000 + r * args.samples, 1000 + (r + 1) * args.samples)
        for name, rows in (("baseline np.unique", numpy_unique_rows), ("unique_rows", fast)):
            normals.unique_rows = rows
            start = time.process_time()
            for i in indices:
                make_sample(i, spec)
            seconds[name].append((time.process_time() - start) / args.samples)
    normals.unique_rows = fast
    medians = {k: statistics.median(v) for k, v in seconds.items()}
    for name, value in medians.items():
        print(f"{name:20s} {1000 * value:6.1f} CPU-ms a sample (median of {args.rounds} rounds of {args.samples})")
    print(f"baseline / unique_rows: {medians['baseline np.unique'] / medians['unique_rows']:.2f}×")


if __name__ == "__main__":
    main()
