"""Benchmark: captions per second and peak memory of each LLM row of the augmentation study.

Each row runs in its own child process (so its peak resident memory is its own): load the
backend through ``PromptAugmenter`` (cache off), caption the first N test-range toyworld
prompts with seed 0, and report

* load seconds (with one untimed warm-up caption), the median and p95 seconds per caption
  over the N prompts (retries included), captions per second = N / total seconds, the rule
  pass rate of the kept captions and the mean retries;
* the child's peak RSS (MB, ``ru_maxrss``);
* the ratio of its captions/s to the ``none`` identity row measured in the same run.

Rows: none, embedded, hf:toyworld-lm:s|m|l, llamacpp:smollm2:135m, llamacpp:gemma3:270m (a row
whose runtime or model is not installed prints its one-line refusal instead of figures).

    .venv/bin/python benchmarks/bench_llms.py [--n 20] [--rows none,embedded,...]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

ROWS = ("none", "embedded", "hf:toyworld-lm:s", "hf:toyworld-lm:m", "hf:toyworld-lm:l",
        "llamacpp:smollm2:135m", "llamacpp:gemma3:270m")
FIRST_TEST_SEED = 1_900_000


def test_prompts(n: int) -> list[str]:
    """The prompts of the augmentation study on the first ``n`` test-range toyworld instances."""
    from text3d.studies.augment import load_dataset

    return load_dataset("toyworld", n, FIRST_TEST_SEED).prompts


def run_row(llm: str, n: int) -> dict:
    """In this process: load ``llm`` and caption ``n`` prompts; figures as a dict."""
    from text3d.prompts.augment import PromptAugmenter

    prompts = test_prompts(n)
    start = time.perf_counter()
    stage = PromptAugmenter(llm, cache=False)
    stage.augment("small red wooden chair", seed=1)  # untimed warm-up: first-call allocations, kernel choice
    loaded = time.perf_counter() - start
    seconds, passed, retries = [], 0, 0
    for prompt in prompts:
        t = time.perf_counter()
        result = stage.augment(prompt, seed=0)
        seconds.append(time.perf_counter() - t)
        passed += bool(result.rules_passed)
        retries += result.retries
    ordered = sorted(seconds)
    return {"llm": llm, "n": n, "load_s": loaded, "median_s": statistics.median(seconds),
            "p95_s": ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))],
            "captions_per_s": n / sum(seconds), "pass_rate": passed / n, "mean_retries": retries / n,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}


def run_child(llm: str, n: int) -> dict:
    """One row in a fresh child process (its own peak memory); a refusal comes back as ``error``."""
    proc = subprocess.run([sys.executable, __file__, "--child", llm, "--n", str(n)], capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        return {"llm": llm, "error": lines[-1] if lines else f"exit code {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="prompts per row")
    parser.add_argument("--rows", default=",".join(ROWS), help="comma-separated --llm specs")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_row(args.child, args.n)))
        return
    rows = [run_child(llm, args.n) for llm in args.rows.split(",") if llm.strip()]
    base = next((r["captions_per_s"] for r in rows if r["llm"] == "none" and "error" not in r), None)
    print(f"{'llm':24} {'load+1 s':>7} {'median s':>9} {'p95 s':>7} {'captions/s':>11} {'vs none':>9} "
          f"{'pass':>5} {'retries':>7} {'peak MB':>8}")
    for r in rows:
        if "error" in r:
            print(f"{r['llm']:24} refused: {r['error']}")
            continue
        ratio = f"{r['captions_per_s'] / base:.4f}" if base else "-"
        print(f"{r['llm']:24} {r['load_s']:7.2f} {r['median_s']:9.4f} {r['p95_s']:7.4f} {r['captions_per_s']:11.2f} "
              f"{ratio:>9} {r['pass_rate']:5.2f} {r['mean_retries']:7.2f} {r['peak_mb']:8.0f}")


if __name__ == "__main__":
    main()
