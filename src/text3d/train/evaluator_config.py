"""Settings of ``text3d train evaluator`` (standard library only, so ``text3d --help`` stays light).

Defaults were sized on this 2-core CPU shared with other jobs: ~35 ms (one core) to build,
degrade and render one sample (4 views at 128² area-downsampled to 64²), ~15 ms per view for
the frozen ViT's tokens, ~0.35 s per optimizer step at batch 32. Measured with the defaults on
that machine (other jobs running): 17.5 wall-minutes, of which samples + ViT tokens 11.7 and the
1,000 steps 5.7. Training runs on one torch thread (two ran a step ~8× slower there, oversubscribed)
and caches the ViT tokens next to the samples, so a rerun on the same samples skips both.

``rank_weight`` 1 with ``geometry_weight`` 2 (and luminance edge maps fed to the stem, 2,000 steps)
did not help on the development samples (Spearman alignment 0.55, geometry 0.32, texture 0.64,
overall 0.53 against 0.61 / 0.32 / 0.64 / 0.63), so both default to off (plain MSE). That run fit
geometry on its training samples (ρ 0.67 on 600 of them) but not on new objects: the limit is
generalization from ~100 objects per category, not visibility.

The shipped weights are trained with the defaults (``--normal-stats --back-normals
--stated-alignment``, each a ``--no-`` switch away from the previous recipes). Composite degradations
(``composite`` 0.5: each dimension flawed independently, half the time) replaced one degradation per
sample: with those, 70 % of each dimension's levels tie at 10, and a visible flaw in one dimension told
the network that the others were perfect, so it scored geometry without looking at the surface
(development geometry ρ 0.004 on composite samples). The normal-statistics token (``normal_stats``)
raised development geometry ρ from 0.24–0.29 to 0.60; a full-resolution CNN branch
(``geometry_branch`` 32) reached 0.45 at four times the cost per step. Back-facing normals
(``back_normals``) let the token see holes, which two-sided shading had turned into dents, and stated
alignment flaws (``stated_alignment``) drop the flaws a sample's text never names; together they raised
the development minimum over the four dimensions from 0.585 to 0.718 (samples with stated flaws).
Swapping in another category's text for 20 % of each batch (``text_swap`` 0.2, alignment level 1) did
not make alignment read text-view agreement instead of the look: development alignment ρ 0.690 against
0.718, washed and shuffled samples' alignment 6.4 / 5.9 against 6.8 / 6.2; it stays off.

The samples limit alignment, not the network: the 9,000-sample weights fit it on their own training
samples (ρ 0.79) far better than on development samples (0.72), and half the samples cost 0.05. So the
default is 15,000 samples, and only the first 9,000 (``generated_items``) may be built on the embedded
generator's asset (≈ 0.7 CPU-s each, ≈ 0.04 for the others): 40.0 CPU-minutes from an empty folder, and
on 1,200 development samples alignment 0.755 against 0.739 (the model card gives the rule and its margin).
"""

from __future__ import annotations

from dataclasses import dataclass

from text3d.limits import MAX_ITEMS
from text3d.train.config import MAX_BATCH, MAX_TRAIN_STEPS, RUNTIME, TrainConfig, setting


@dataclass(frozen=True)
class EvaluatorTrainConfig(TrainConfig):
    """Settings of ``text3d train evaluator`` (every one is recorded in the model card)."""

    items: int = setting(15000, "Training samples (toyworld training seeds from 0).",
                         "data", "--items", 2, MAX_ITEMS)
    dev_items: int = setting(300, "Development samples (seeds from 1,000,000) for the training report.",
                             "data", "--dev-items", 0, MAX_ITEMS)
    test_items: int = setting(600, "Test samples (seeds from 1,900,000) for the model card.", "data",
                              "--test-items", 0, MAX_ITEMS)
    composite: float = setting(0.5, "Composite degradations: each dimension degraded independently with this "
                               "probability (0: one degradation per sample, or none).", "data", "--composite",
                               0.0, 1.0)
    clean_fraction: float = setting(0.2, "Share of undegraded samples (single degradations only).", "data")
    voxel_fraction: float = setting(0.0, "Share of samples built from the 32³ voxel surface (as a grid "
                                    "generator outputs) before degrading.", "data")
    generated_fraction: float = setting(0.1, "Share of samples built on the embedded generator's asset for the "
                                        "item's prompt (or another category's, for a category misalignment).",
                                        "data")
    generated_items: int = setting(9000, "Training samples only: only the first N may be built on the embedded "
                                   "generator's asset, the rest on toyworld's scene at about a thirteenth of the "
                                   "cost (0: every one may).", "data", "--generated-items", 0, MAX_ITEMS)
    part_share: float = setting(0.0, "Training samples only: the share of alignment flaws that remove a part (the "
                                "rest another category or a wrong color, evenly; 0: the three evenly, as the "
                                "held-out samples).", "data", "--part-share", 0.0, 1.0)
    normal_maps: bool = setting(True, "Views carry camera-space normal maps beside RGB (the conv stem reads "
                                "6 channels).", "data")
    see_through: bool = setting(False, "Views cull back faces, so holes show the background instead of the "
                                "surface's inside.", "data")
    back_normals: bool = setting(True, "Normal maps keep back faces facing away from the camera, so the inside "
                                 "of a hole, seen through it, reads as facing away (shading stays two-sided).",
                                 "data", "--back-normals")
    stated_alignment: bool = setting(True, "Alignment flaws are ones the sample's text states: a removed part is "
                                     "one it names, a wrong main color one it names (else the other, else "
                                     "another category).", "data", "--stated-alignment")
    steps: int = setting(2500, "Optimizer steps.", "evaluator", "--steps", 1, MAX_TRAIN_STEPS)
    batch: int = setting(32, "Batch size (samples).", "evaluator", "--batch", 2, MAX_BATCH)
    lr: float = setting(1e-3, "Peak learning rate (AdamW, cosine schedule to 0).", "evaluator", "--lr", 0.0, 1.0,
                        low_open=True)
    warmup: int = setting(100, "Linear warm-up steps.", "evaluator")
    weight_decay: float = setting(0.02, "AdamW weight decay.", "evaluator")
    rank_weight: float = setting(0.0, "Weight λ of the pairwise (RankNet) ranking loss next to the MSE.",
                                 "evaluator")
    text_swap: float = setting(0.0, "Share of training items per batch whose text is swapped for another "
                               "category's sample text: alignment level 1 (another category), overall recomputed.",
                               "evaluator", "--text-swap", 0.0, 1.0)
    twin_weight: float = setting(0.0, "Weight λ of the alignment consistency between a flawed training sample and "
                                 "its twin, the same asset before its geometry and texture flaws (0: no twins).",
                                 "evaluator", "--twin-weight", 0.0, 100.0)
    geometry_weight: float = setting(1.0, "Loss weight of the geometry dimension (the others 1).", "evaluator")
    stem: str = setting("patchify", "Conv stem: patchify (4×4 stride 4, average-pooled) or full (3×3 convolutions "
                        "from 64², max-pooled).", "evaluator")
    geometry_branch: int = setting(0, "Channels of a separate full-resolution CNN over the views whose max-pooled "
                                   "features add to every score's logit (0: none).", "evaluator",
                                   "--geometry-branch", 0, 256)
    normal_stats: bool = setting(True, "One token per view of normal-map statistics (the histogram of "
                                 "neighbouring pixels' normal angles, back-facing and covered shares).",
                                 "evaluator", "--normal-stats")
    color_stats: bool = setting(False, "One token per view of colour statistics (saturation-weighted hue "
                                "histogram, black / gray / white shares, mean saturation, colour jumps between "
                                "neighbouring pixels).", "evaluator", "--color-stats")
    grid: int = setting(2, "Tokens per view side: the frozen ViT's 8×8 patch grid and the conv stem's map are "
                        "average-pooled to grid² tokens each (2: 4 + 4 per view; 4: 16 + 16, finer part detail).",
                        "evaluator", "--grid", 1, 8)
    width: int = setting(128, "Fusion transformer width.", "evaluator", "--width", 8, 4096)
    depth: int = setting(2, "Fusion transformer blocks.", "evaluator", "--depth", 1, 64)
    image_encoder: str | None = setting(None, "Image-encoder folder whose ViT is copied, frozen, into the "
                                        "evaluator (default: the shipped one).", "data", "--image-encoder")
    checkpoint_every: int = setting(200, "Steps between resumable checkpoints.", RUNTIME, "--checkpoint-every",
                                    1, MAX_TRAIN_STEPS)


DATA_STAGES = ("shared", "data")
"""Stages the rendered sample cache depends on."""
EVALUATOR_STAGES = ("shared", "data", "evaluator")
"""Stages a training checkpoint depends on."""
