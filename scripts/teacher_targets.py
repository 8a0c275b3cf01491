"""How far the multi-view teacher's guided targets lie from the truth, per channel group.

    .venv/bin/python scripts/teacher_targets.py [--teacher DIR] [--n 24] [--draws 4]

N development items (seeds from 1,000,000) rendered as the teacher was trained (4 views, RGB +
normals + depth); for each noise level t and guidance scale, the fraction of variance unexplained
of the teacher's x̂₀ per group (``text3d.train.mvdiffusion_eval.target_error``): the targets that
progressive rendering distillation regresses the student's renders onto. Prints a Markdown table.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from text3d.data.toyworld.instance import DEV_SEEDS
from text3d.errors import Text3DError
from text3d.train.mvdiffusion import load_embedded_teacher
from text3d.train.mvdiffusion_data import ViewSpec, dequantize, make_item
from text3d.train.mvdiffusion_eval import CHANNEL_GROUPS, target_error

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", default=None, help="teacher folder (default: the shipped one)")
    parser.add_argument("--n", type=int, default=24, help="development items (at least 2: FVU needs a mean image)")
    parser.add_argument("--draws", type=int, default=4, help="noise draws per item")
    parser.add_argument("--guidance-rescale", type=float, default=0.0,
                        help="also rows at guidance 5 with this guidance rescale (0: none)")
    args = parser.parse_args()
    if args.n < 2 or args.draws < 1:
        parser.error(f"--n {args.n} --draws {args.draws}: need --n >= 2 and --draws >= 1")
    torch.set_num_threads(1)
    spec = ViewSpec(n=args.n, base_seed=DEV_SEEDS.start)
    items = [make_item(i, spec) for i in range(args.n)]
    views = torch.from_numpy(np.stack([dequantize(item["views"]) for item in items]))
    cameras = torch.from_numpy(np.stack([item["c2w"] for item in items]))
    prompts = [item["texts"][0] for item in items]
    try:
        teacher = load_embedded_teacher(args.teacher)
    except Text3DError as error:  # a missing or foreign teacher folder: one line, as the CLI says it
        raise SystemExit(f"teacher_targets.py: error: {error}") from None
    if not 0.0 <= args.guidance_rescale <= 1.0:
        parser.error(f"--guidance-rescale {args.guidance_rescale}: need a value in [0, 1]")
    settings = [(1.0, 0.0), (5.0, 0.0)] + ([(5.0, args.guidance_rescale)] if args.guidance_rescale > 0 else [])
    print("| t | guidance | rescale | " + " | ".join(f"FVU {g}" for g in CHANNEL_GROUPS) + " |")
    print("|---|---|---|" + "---|" * len(CHANNEL_GROUPS))
    for t in (0.3, 0.6, 0.9, 0.98):
        for guidance, rescale in settings:
            fvu = target_error(teacher, views, cameras, prompts, t, guidance, args.draws, guidance_rescale=rescale)
            print(f"| {t} | {guidance:g} | {rescale:g} | " + " | ".join(f"{fvu[g]:.2f}" for g in CHANNEL_GROUPS)
                  + " |", flush=True)
