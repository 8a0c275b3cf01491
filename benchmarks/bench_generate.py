"""Benchmark: seconds per asset end to end (augment + generate + GLB export) at default
settings, and the peak memory of ``text3d generate``.

Target: ≤ 2 s per asset and ≤ 2 GB on 2 CPU cores with the embedded generator (at its default
best-of-6 sampling; the same model drawing one sample is timed too). Printed
beside the procedural backend and the distilled few-step student (embedded-turbo, whose bar is
≤ 0.15 s per asset and ≥ 4× faster than the embedded generator) run in the same process, and the
published anchor (TriplaneTurbo: 1.2 s per textured mesh on a GPU, seed 002 Table 1).

    .venv/bin/python benchmarks/bench_generate.py [--n 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import peak_rss_of_command  # noqa: E402

PROMPTS = ["small blue sailboat", "red wooden chair", "tall green pine tree", "yellow rubber duck",
           "black metal lamp", "white ceramic teapot", "orange toy truck", "purple teddy bear",
           "gray stone castle tower", "pink mushroom", "teal bicycle", "brown wooden bookshelf"]
UNSEEN_WORDS = ["crimson yacht", "navy sloop", "ivory automaton", "lemon whirligig", "scarlet goldfish",
                "emerald tom-tom", "tangerine duckling", "azure two-wheeler", "chocolate stemware in rose",
                "ebony bath duckie", "turquoise sedan", "golden tankard"]
"""Prompts whose words are outside toyworld's vocabulary: the augmenter grounds them (WordNet,
XKCD colors, MiniLM), so they time that path too."""


def time_backend(backend: str, n: int, prompts: list[str] = PROMPTS, candidates: int | None = None) -> list[float]:
    from text3d.assets.io import asset_to_glb_bytes
    from text3d.runs.pipeline import Pipeline

    pipeline = Pipeline(backend=backend, augment="embedded", candidates=candidates)
    pipeline(prompts[0], seed=0)  # warm-up: models loaded (WordNet and MiniLM too for unseen words)
    times = []
    for i in range(n):
        start = time.perf_counter()
        result = pipeline(prompts[(i + 1) % len(prompts)], seed=1000 + i)
        asset_to_glb_bytes(result.asset)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()
    peaks = []
    for prompt in (PROMPTS[0], UNSEEN_WORDS[0]):
        with tempfile.TemporaryDirectory() as tmp:
            peaks.append(peak_rss_of_command([sys.executable, "-m", "text3d", "generate", prompt, "--out",
                                              str(Path(tmp) / "asset"), "--backend", "embedded"]))
    peak_mb, code = max(p[0] for p in peaks), max(p[1] for p in peaks)
    rows = {}
    for backend in ("embedded", "procedural", "embedded-turbo"):
        times = time_backend(backend, args.n)
        rows[backend] = (statistics.median(times), max(times))
    times = time_backend("embedded", args.n, UNSEEN_WORDS)
    rows["embedded, unseen words"] = (statistics.median(times), max(times))
    times = time_backend("embedded", args.n, candidates=1)  # the same model drawing one sample
    rows["embedded, --candidates 1"] = (statistics.median(times), max(times))
    print(f"end to end (augment + generate + GLB export), {args.n} prompts after warm-up, median of runs")
    print(f"{'backend':38s} {'median s':>9s} {'max s':>7s} {'vs anchor':>10s}")
    for backend, (median, worst) in rows.items():
        print(f"{backend + ' (2 CPU cores)':38s} {median:9.3f} {worst:7.3f} {1.2 / median:9.2f}x")
    print(f"{'TriplaneTurbo on a GPU (published)':38s} {1.2:9.3f} {'':>7s} {1.0:9.2f}x")
    embedded = max(rows["embedded"][0], rows["embedded, unseen words"][0])
    print(f"best-of-K at the default K costs {rows['embedded'][0] / rows['embedded, --candidates 1'][0]:.2f}x "
          f"one sample")
    print(f"target ≤ 2 s per asset: {'PASS' if embedded <= 2.0 else 'FAIL'} ({embedded:.3f} s)")
    turbo, speedup = rows["embedded-turbo"][0], rows["embedded"][0] / rows["embedded-turbo"][0]
    print(f"embedded-turbo: {turbo:.3f} s per asset (bar ≤ 0.15 s: {'PASS' if turbo <= 0.15 else 'FAIL'}), "
          f"{speedup:.1f}x faster than embedded (bar ≥ 4x: {'PASS' if speedup >= 4 else 'FAIL'})")
    print(f"peak memory of `text3d generate` (embedded, child process, incl. views + GIF; "
          f"{PROMPTS[0]!r} {peaks[0][0]:.0f} MB, {UNSEEN_WORDS[0]!r} {peaks[1][0]:.0f} MB): {peak_mb:.0f} MB "
          f"(target ≤ 2048 MB: {'PASS' if peak_mb <= 2048 and code == 0 else 'FAIL'})")


if __name__ == "__main__":
    main()
