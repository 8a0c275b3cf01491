"""How the similarity bounds of :mod:`text3d.bias.filters` were chosen: on development-range
toyworld instances only (seeds from 1,000,000, categories round-robin; never the test range).

* consistency lower bound: each instance's prompt against its own three toyworld captions
  (positives: faithful descriptions of the prompt's object in other words) and against the three
  captions of the next item's instance, of another category (negatives); the bound on the grid
  0.20 … 0.80 (step 0.01) with the best balanced accuracy, rounded down to 0.05;
* diversity upper bound: the 95th percentile of the cosine between two different captions of
  one instance (descriptive, technical and scene styles: texts that differ on purpose), rounded
  up to 0.05. Near-copies (a caption with its color word swapped for another color) are measured
  too, to show they fall above the bound.

``python -m text3d.bias.bounds`` prints the measurement (about 10 s on one core).
"""

from __future__ import annotations

import json
import math
from itertools import combinations
from typing import Any

import numpy as np

from text3d.bias.filters import sentence_vectors

DEV_FIRST_SEED = 1_000_000
"""First development-range seed (:data:`text3d.data.toyworld.instance.DEV_SEEDS`)."""


def _swap_color(text: str, color: str, other: str) -> str | None:
    tokens = text.split(" ")
    for index, token in enumerate(tokens):
        if token.strip(".,;").lower() == color:
            tokens[index] = token.lower().replace(color, other)
            return " ".join(tokens)
    return None


def measure_bounds(n: int = 300, first_seed: int = DEV_FIRST_SEED) -> dict[str, Any]:
    """The measurement above on ``n`` development instances: the chosen bounds and the
    distributions they were chosen from (quantiles of each cosine set)."""
    from text3d.data.toyworld.instance import DEV_SEEDS, item_spec, make_instance
    from text3d.data.toyworld.vocabulary import COLOR_NAMES

    specs = [item_spec(i, first_seed) for i in range(n)]
    if any(seed not in DEV_SEEDS for _, seed in specs):
        raise ValueError(f"seeds {first_seed}… for {n} items leave the development range")
    instances = [make_instance(category, seed) for category, seed in specs]
    texts = sorted({t for inst in instances for t in [inst.prompt, *inst.captions]})
    table = dict(zip(texts, sentence_vectors(texts)))

    def cos(a: str, b: str) -> float:
        return float(table[a] @ table[b])

    positives, negatives, between, near = [], [], [], []
    near_texts = []
    for index, inst in enumerate(instances):
        other = instances[(index + 1) % n]
        if other.category == inst.category:
            continue
        positives += [cos(inst.prompt, c) for c in inst.captions]
        negatives += [cos(inst.prompt, c) for c in other.captions]
        between += [cos(a, b) for a, b in combinations(inst.captions, 2)]
        color = inst.attributes["color"]
        swapped = _swap_color(inst.captions[0], color, next(c for c in COLOR_NAMES if c != color))
        if swapped:
            near_texts.append((inst.captions[0], swapped))
    copies = sorted({t for _, t in near_texts} - set(table))
    table.update(zip(copies, sentence_vectors(copies)))
    near = [cos(a, b) for a, b in near_texts]
    pos, neg = np.array(positives), np.array(negatives)
    grid = np.round(np.arange(0.20, 0.8001, 0.01), 2)
    balanced = [(float((pos >= t).mean() + (neg < t).mean()) / 2, float(t)) for t in grid]
    best_accuracy, best = max(balanced)
    consistency = math.floor(best * 20 + 1e-9) / 20
    diversity = math.ceil(float(np.quantile(between, 0.95)) * 20 - 1e-9) / 20

    def quantiles(values: list[float]) -> dict[str, float]:
        return {f"q{int(q * 100):02d}": round(float(np.quantile(values, q)), 4) for q in (0.05, 0.5, 0.95)}

    return {
        "instances": n, "first_seed": first_seed,
        "min_consistency": consistency, "best_threshold": best, "balanced_accuracy": round(best_accuracy, 4),
        "consistency_pass": {"own_captions": round(float((pos >= consistency).mean()), 4),
                             "other_category": round(float((neg >= consistency).mean()), 4)},
        "max_similarity": diversity,
        "near_copies_above": round(float((np.array(near) >= diversity).mean()), 4) if near else None,
        "cosines": {"own_captions": quantiles(positives), "other_category": quantiles(negatives),
                    "between_captions": quantiles(between), "near_copies": quantiles(near) if near else {}},
    }


if __name__ == "__main__":  # pragma: no cover - a measurement, printed
    print(json.dumps(measure_bounds(), indent=2))
