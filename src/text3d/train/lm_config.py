"""The settings of ``text3d train lm`` and the sizes of the toyworld caption LMs (standard
library only, so the CLI reads them at ``text3d --help`` time)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from text3d.errors import InputError
from text3d.limits import MAX_ITEMS, MAX_SEED
from text3d.train.config import MAX_BATCH, MAX_TRAIN_STEPS, RUNTIME, setting

LM_EVALUATE_N = 200
"""Test-range instances of the model cards' check (``--evaluate``); each gives its seeded prompt and its
paraphrase."""


@dataclass(frozen=True)
class LMShape:
    """One size: Llama width, blocks, heads, MLP width, and its default peak learning rate."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    lr: float


LM_SIZES: dict[str, LMShape] = {
    "s": LMShape(hidden=64, layers=2, heads=2, intermediate=176, lr=1.2e-2),
    "m": LMShape(hidden=128, layers=4, heads=4, intermediate=344, lr=4e-3),
    "l": LMShape(hidden=192, layers=6, heads=6, intermediate=512, lr=4e-3),
}
"""The family: one architecture (head width 32), widths and depths only differ (≈0.15 M, 0.9 M,
2.8 M parameters with the shipped 784-entry vocabulary); same data, steps and batch for every size.

The peak learning rates were picked by development-range caption loss (nats per token, 256 pairs
from seed 1,000,000) after 200-step runs (cosine over 200 steps, batch 32), the best or, when two
tied, the lower: s 1e-3 1.913, 3e-3 1.074, 6e-3 0.749, 1.2e-2 0.555; m 1e-3 0.887, 2e-3 0.542,
4e-3 0.440, 8e-3 0.443; l 1e-3 0.518, 2e-3 0.410, 4e-3 0.385. Short runs favour large rates; the
shipped runs are 900 steps.
"""


@dataclass(frozen=True)
class LMTrainConfig:
    """Settings of ``text3d train lm`` (every one is recorded in the model card)."""

    size: str = setting("s", "Model size: s, m or l.", "shared", "--size")
    seed: int = setting(0, "Seed of initialization and batch sampling.", "shared", "--seed", 0, MAX_SEED)
    items: int = setting(6000, "Training instances (toyworld seeds from 0, categories round-robin).", "shared",
                         "--items", 2, MAX_ITEMS)
    vocab: int = setting(1024, "Byte-level BPE vocabulary (trained on the training pairs).", "shared")
    steps: int = setting(900, "Optimizer steps.", "lm", "--steps", 1, MAX_TRAIN_STEPS)
    batch: int = setting(32, "Batch size (pairs).", "lm", "--batch", 1, MAX_BATCH)
    lr: float | None = setting(None, "Peak learning rate, AdamW, cosine to 0 (default: the size's).", "lm",
                               "--lr", 0.0, 1.0, low_open=True)
    warmup: int = setting(50, "Linear warm-up steps.", "lm")
    weight_decay: float = setting(0.01, "AdamW weight decay.", "lm")
    dev_pairs: int = setting(256, "Development-range pairs (seeds from 1,000,000) for the logged dev loss.", "lm")
    device: str | None = setting(None, "cpu, cuda, mps (default: cpu; these models are tiny).", RUNTIME, "--device")
    checkpoint_every: int = setting(100, "Steps between resumable checkpoints.", RUNTIME, "--checkpoint-every",
                                    1, MAX_TRAIN_STEPS)

    def resolved(self) -> LMTrainConfig:
        """This config with ``lr`` filled from the size when unset."""
        return self if self.lr is not None else dataclasses.replace(self, lr=lm_shape(self.size).lr)


LM_STAGES = ("shared", "lm")
"""Stages a checkpoint depends on."""


def lm_shape(size: str) -> LMShape:
    """The :class:`LMShape` of ``size``; a one-line error naming it if unknown."""
    if size not in LM_SIZES:
        raise InputError(f"--size {size!r}: use one of {', '.join(LM_SIZES)}")
    return LM_SIZES[size]
