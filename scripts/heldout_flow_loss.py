"""Held-out image-conditioned flow loss of generator folders (the generator card's column).

    .venv/bin/python scripts/heldout_flow_loss.py --cache DIR [FOLDER ...]   # no FOLDER: the shipped one

600 development items (seeds from 1,000,000), both renders each, 4 fixed (noise, t) draws; the
items are rendered once into DIR and reused (see ``text3d.train.image_adapter_eval``).
"""

from __future__ import annotations

import argparse
import json

from text3d.train.image_adapter_eval import heldout_flow_loss

if __name__ == "__main__":  # rendering uses worker processes
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", help="generator folders (default: the shipped one)")
    parser.add_argument("--cache", required=True, help="folder for the rendered development items")
    parser.add_argument("--n", type=int, default=600, help="development items")
    parser.add_argument("--draws", type=int, default=4, help="fixed (noise, t) draws per item and view")
    args = parser.parse_args()
    losses = heldout_flow_loss(args.folders or [None], args.cache, n=args.n, draws=args.draws)
    print(json.dumps({k: round(v, 4) for k, v in losses.items()}, indent=2))
