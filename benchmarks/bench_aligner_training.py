"""Benchmark: one optimizer step of GAP3D's aligner training (batch 16, the shipped DiT shape)
with the text encoder in the step (soft tokens trained) against the same step on conditions
cached once (`--freeze-soft`), both in this process on one torch thread, as training runs.

    .venv/bin/python benchmarks/bench_aligner_training.py [--batch 16] [--repeats 15]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import median_seconds  # noqa: E402


def main() -> None:
    import numpy as np
    import torch

    from text3d.data.toyworld.instance import make_instance
    from text3d.data.toyworld.vocabulary import CATEGORY_NAMES
    from text3d.encoders.minilm import shared_text_encoder
    from text3d.nn.aligner_flow import aligner_flow_loss
    from text3d.train.aligner import ConditionCache, build_models, caption_condition, trainable_parameters
    from text3d.train.config import AlignerTrainConfig

    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    captions = tuple(tuple(make_instance(CATEGORY_NAMES[seed % len(CATEGORY_NAMES)], seed, kind="basic").captions)
                     for seed in range(64))  # real toyworld captions
    dit, encoder = build_models(AlignerTrainConfig(stage=2), 4, 8, 192, shared_text_encoder(None))
    rng = np.random.default_rng(0)
    targets = {"cls": torch.randn(64, 1, 192), "registers": torch.randn(64, 4, 192),
               "patches": torch.randn(64, 64, 192)}

    def step(frozen: bool, cache: ConditionCache | None = None) -> None:
        optimizer = optimizers[frozen]
        index = rng.integers(len(captions), size=args.batch)
        choice = np.array([int(rng.integers(len(captions[i]))) for i in index])
        x1 = {k: v[torch.from_numpy(index)] for k, v in targets.items()}
        if cache is None:
            cond, mask = caption_condition(encoder, [captions[i][c] for i, c in zip(index, choice)])
        else:
            cond, mask = cache(index, choice)
        loss, _ = aligner_flow_loss(dit, x1, cond, cond_mask=mask)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    optimizers = {flag: torch.optim.AdamW([{"params": g["params"]} for g in trainable_parameters(dit, encoder, flag)],
                                          lr=1e-5) for flag in (False, True)}
    text_s, _ = median_seconds(lambda: step(False), repeats=args.repeats)
    cache_s, _ = median_seconds(lambda: ConditionCache(encoder, captions, progress=False), repeats=3, warmup=0)
    cache = ConditionCache(encoder, captions, progress=False)
    frozen_s, _ = median_seconds(lambda: step(True, cache), repeats=args.repeats)
    n = sum(len(c) for c in captions)
    print(f"aligner training step, batch {args.batch}, one torch thread; medians of {args.repeats}")
    print(f"{'step':52s} {'median s':>9s}")
    print(f"{'  baseline: soft tokens trained (MiniLM in every step)':52s} {text_s:9.3f}")
    print(f"{'frozen soft tokens, cached conditions':52s} {frozen_s:9.3f}   ({text_s / frozen_s:.2f}x faster)")
    print(f"caching the conditions once: {cache_s:.3f} s for {n} captions ({1000 * cache_s / n:.2f} ms a caption)")


if __name__ == "__main__":
    main()
