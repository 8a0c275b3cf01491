"""Benchmark: `text3d eval` of N toyworld assets (canonical4 + clip8 views, points) against a
reference set of N, with the default extractors and a cold feature cache.

Each evaluation runs in a child process; its wall time and peak resident memory are
measured. The baseline is the same command run from a ``git worktree`` of the commit before
the throughput work (``--baseline``), in the same benchmark, runs interleaved; both
metrics.json files must be byte-identical. Targets at N = 1,000: ≤ 120 s and ≤ 2 GB.
The data (two toyworld runs) is built once into ``--data`` and reused.

    .venv/bin/python benchmarks/bench_eval.py [--n 1000] [--repeats 2] [--data /tmp/text3d-bench-eval]
    .venv/bin/python benchmarks/bench_eval.py --n 100 --repeats 1          # a quick run
    .venv/bin/python benchmarks/bench_eval.py --skip-baseline              # compare with the recorded 274 s
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE_COMMIT = "b3ebefe"
"""The commit before the evaluation throughput work."""
RECORDED_BASELINE_S = 274.0
"""`text3d eval` of 1,000 toyworld assets before that work, as recorded in the issue (no reference set)."""


def run_with_rusage(args: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """Run ``args`` in a child; (wall s, the child's own peak RSS in MB from os.wait4, exit code,
    stderr tail)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = proc.stderr.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - start, usage.ru_maxrss / 1024.0, proc.returncode, stderr[-2000:]


def build_data(data: Path, n: int) -> tuple[Path, Path]:
    """Two toyworld runs of ``n`` items (train and held-out seeds) with canonical4 + clip8 and points."""
    runs = []
    for name, seed in (("gen", 0), ("ref", 1_000_000)):
        out = data / f"{name}-{n}"
        if not (out / "manifest.jsonl").exists() or sum(1 for _ in (out / "items").iterdir()) < n:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "text3d", "data", "toyworld", "--n", str(n), "--out", str(out),
                            "--seed", str(seed), "--views", "canonical4,clip8", "--points"], check=True,
                           stdout=subprocess.DEVNULL)
            print(f"built {out} in {time.perf_counter() - start:.0f} s")
        runs.append(out)
    return runs[0], runs[1]


def baseline_tree(commit: str, workdir: Path) -> Path | None:
    """A detached worktree of ``commit`` (None when git cannot make one)."""
    tree = workdir / "baseline"
    proc = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"no baseline worktree of {commit}: {proc.stderr.strip()}")
        return None
    return tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="assets per run (generated and reference)")
    parser.add_argument("--repeats", type=int, default=2, help="timed evaluations per code version")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "text3d-bench-eval",
                        help="where the toyworld runs are built once and reused")
    parser.add_argument("--baseline", default=BASELINE_COMMIT, help="commit to measure as the baseline")
    parser.add_argument("--skip-baseline", action="store_true", help=f"print the recorded {RECORDED_BASELINE_S:.0f} s")
    args = parser.parse_args()

    gen, ref = build_data(args.data, args.n)
    workdir = Path(tempfile.mkdtemp(prefix="text3d-bench-eval-"))
    tree = None if args.skip_baseline else baseline_tree(args.baseline, workdir)
    env = {**os.environ, "TEXT3D_PROGRESS": "0"}
    env.pop("TEXT3D_CACHE_DIR", None)  # a cold feature cache in every --out
    versions = {"this tree": str(ROOT / "src")}
    if tree is not None:
        versions[f"baseline {args.baseline}"] = str(tree / "src")
    results: dict[str, list[tuple[float, float]]] = {label: [] for label in versions}
    outputs: dict[str, Path] = {}
    try:
        print(f"`text3d eval` of {args.n} assets × canonical4 + clip8 (+ points) against a reference set of "
              f"{args.n}; default extractors, cold feature cache; {args.repeats} run(s) each, interleaved; "
              f"{os.cpu_count()} cores, 1-min load {os.getloadavg()[0]:.1f}")
        for repeat in range(args.repeats):
            for number, (label, source) in enumerate(versions.items()):
                out = workdir / f"out-{number}-{repeat}"  # a fresh --out (and feature cache) per run
                cli = [sys.executable, "-m", "text3d", "eval", "--generated", str(gen), "--reference", str(ref),
                       "--out", str(out)]
                wall, peak, code, err = run_with_rusage(cli, {**env, "PYTHONPATH": source})
                if code != 0:
                    sys.stderr.write(err)
                    raise SystemExit(f"{label}: text3d eval exited with {code}")
                results[label].append((wall, peak))
                outputs[label] = out
                print(f"  {label:28s} run {repeat + 1}: {wall:7.1f} s, peak RSS {peak:7.0f} MB")
        print(f"{'code':28s} {'median wall s':>14s} {'peak RSS MB':>12s} {'vs baseline':>12s}")
        ours = statistics.median(w for w, _ in results["this tree"])
        base_label = next((label for label in versions if label != "this tree"), None)
        base = statistics.median(w for w, _ in results[base_label]) if base_label else None
        for label, rows in results.items():
            wall = statistics.median(w for w, _ in rows)
            ratio = f"{(base or wall) / wall:.2f}x" if base else "n/a"
            print(f"{label:28s} {wall:14.1f} {max(p for _, p in rows):12.0f} {ratio:>12s}")
        if base_label:
            same = (outputs["this tree"] / "metrics.json").read_bytes() == \
                (outputs[base_label] / "metrics.json").read_bytes()
            print(f"metrics.json byte-identical to the baseline's: {'yes' if same else 'NO'}")
        else:
            print(f"baseline not measured: recorded {RECORDED_BASELINE_S:.0f} s (1,000 assets, no reference set, "
                  f"another machine state) → {RECORDED_BASELINE_S / ours:.2f}x")
        peak = max(p for _, p in results["this tree"])
        verdict = ("PASS" if ours <= 120 and peak <= 2048 else "FAIL") if args.n >= 1000 else "n/a (--n < 1000)"
        print(f"target ≤ 120 s and ≤ 2048 MB at 1,000 assets: {verdict} ({ours:.1f} s, {peak:.0f} MB)")
    finally:
        if tree is not None:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
