"""Benchmark: what GAP3D's aligner adds to one asset — sampling the image encoder's 69 tokens
from a caption (Euler steps with CFG; the aligner's defaults unless given) — against the
embedded generator's own sampling of the same caption, both in this process on 2 cores, and
against 32 steps (the setting before the defaults were chosen) as the baseline. Target: ≤ 0.2 s
per asset.

    .venv/bin/python benchmarks/bench_aligner.py [--aligner aligner-stage2] [--steps N] [--repeats 15]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import median_seconds  # noqa: E402


def main() -> None:
    from text3d.align.sampling import TokenAligner
    from text3d.generators.base import Condition, create_generator

    parser = argparse.ArgumentParser()
    parser.add_argument("--aligner", default="aligner-stage2")
    parser.add_argument("--steps", type=int, default=None, help="Euler steps (default: the aligner's)")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    caption = ("A chair with a padded red wooden seat, a tall red wooden back and four straight red wooden legs; "
               "a single object on a plain background.")
    aligner = TokenAligner.from_pretrained(args.aligner, steps=args.steps)
    baseline = TokenAligner(aligner.dit, aligner.encoder, aligner.folder, 32, aligner.cfg, 0.0)
    generator = create_generator("embedded", None, None, candidates=1)
    tokens = aligner(caption, 0)
    align_s, _ = median_seconds(lambda: aligner(caption, 0), repeats=args.repeats)
    base_s, _ = median_seconds(lambda: baseline(caption, 0), repeats=args.repeats)
    text_s, _ = median_seconds(lambda: generator.generate(Condition(prompt="red wooden chair", caption=caption)),
                               repeats=args.repeats)
    image_s, _ = median_seconds(lambda: generator.generate(Condition(prompt="red wooden chair", tokens=tokens)),
                                repeats=args.repeats)
    print(f"aligner {aligner.folder.name}: {aligner.steps} Euler steps, CFG {aligner.cfg}, guidance rescale "
          f"{aligner.guidance_rescale}; medians of {args.repeats}")
    print(f"{'stage':44s} {'median s':>9s}")
    print(f"{'GAP3D token sampling (the added stage)':44s} {align_s:9.3f}")
    print(f"{'  baseline: 32 Euler steps':44s} {base_s:9.3f}   ({base_s / align_s:.2f}x slower)")
    print(f"{'generator from the caption (text path, K=1)':44s} {text_s:9.3f}")
    print(f"{'generator from GAP3D tokens (image path, K=1)':44s} {image_s:9.3f}")
    print(f"GAP3D path / text path: {(align_s + image_s) / text_s:.2f}x")
    print(f"target ≤ 0.200 s added per asset: {'PASS' if align_s <= 0.2 else 'FAIL'} ({align_s:.3f} s)")


if __name__ == "__main__":
    main()
