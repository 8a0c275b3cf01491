"""Benchmark: stage 2's view choice (GAP3D App. A.1.2: 5,000 surface points, 4 candidate yaws,
exact ray casting) on toyworld single objects, with the candidate triangles culled by depth
(the default) against the same culling without it (the baseline), in this process, and the
share of a whole stage-2 pair (object, view choice, render) it takes. Both give the same
visibility; the benchmark checks that too.

    .venv/bin/python benchmarks/bench_views.py [--objects 12] [--repeats 5]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import median_seconds  # noqa: E402


def main() -> None:
    from text3d.align.scenes import _stage2_instance, stage2_pair
    from text3d.align.views import CANDIDATE_YAWS, N_POINTS, sample_surface, visible_points
    from text3d.render.cameras import Camera

    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cases = []
    for seed in range(args.objects):
        asset = _stage2_instance(seed).obj.to_asset()
        points, owner = sample_surface(asset.vertices, asset.faces, N_POINTS, seed)
        eyes = [Camera(yaw=y, pitch=30.0, radius=2.0).position() for y in CANDIDATE_YAWS]
        cases.append((asset, points, owner, eyes))

    def choose(depth_cull: bool) -> list[np.ndarray]:
        return [visible_points(a.vertices, a.faces, p, o, eye, depth_cull=depth_cull)
                for a, p, o, eyes in cases for eye in eyes]

    same = all(np.array_equal(x, y) for x, y in zip(choose(True), choose(False)))
    new_s, _ = median_seconds(lambda: choose(True), repeats=args.repeats, warmup=1)
    old_s, _ = median_seconds(lambda: choose(False), repeats=args.repeats, warmup=1)
    pair_s, _ = median_seconds(lambda: [stage2_pair(seed, 64) for seed in range(args.objects)],
                               repeats=args.repeats, warmup=1)
    n = args.objects
    print(f"{n} toyworld objects × {len(CANDIDATE_YAWS)} yaws, {N_POINTS} points; medians of {args.repeats}")
    print(f"{'stage':44s} {'ms/object':>10s}")
    print(f"{'view choice, depth-culled candidates':44s} {1000 * new_s / n:10.1f}")
    print(f"{'  baseline: without the depth cull':44s} {1000 * old_s / n:10.1f}   ({old_s / new_s:.2f}x slower)")
    print(f"{'whole stage-2 pair (object, view, 64² render)':44s} {1000 * pair_s / n:10.1f}")
    print(f"same visibility both ways: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
