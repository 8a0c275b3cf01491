"""Settings of ``text3d train mvdiffusion`` (standard library only, so ``text3d --help`` stays light).

Sized on this 2-core CPU shared with other jobs, one torch thread (CPU time, measured with
``os.times``): the default model (width 128, depth 6, 4 views × 64 tokens of 4×4-pixel patches,
2.4 M parameters) takes 0.55 CPU-seconds an optimizer step at batch 16 (width 192: 1.1), so the
5,000 default steps take ~46 CPU-minutes; rendering the 4,500 training items (4 views at 64² with
normals and depth, ~15 ms an item) and their MiniLM states ~3 more, and the held-out checks of
90 + 90 prompts ~4, within 60 CPU-minutes in all.

Chosen on development prompts with two scaled-down runs (same 4,500 items, seed 0), one-step
denoising at t = 0.5 (category accuracy / R@1 of x̂₀ with the own prompt, N = 90): width 192,
lr 3e-4, logit-normal times, 300 steps: 0.178 / 0.233; width 128, lr 6e-4, uniform times, 600 steps
(the same CPU time): 0.211 / 0.267. The gap is within sampling noise at N = 90; the narrower
model is kept for twice the steps per CPU-minute. Both runs' sampled views were still noisy (category
accuracy of samples at chance): the model is far from converged at that length.
"""

from __future__ import annotations

from dataclasses import dataclass

from text3d.limits import MAX_ITEMS
from text3d.train.config import MAX_BATCH, MAX_TRAIN_STEPS, MAX_WIDTH, RUNTIME, TrainConfig, setting


@dataclass(frozen=True)
class MVDiffusionTrainConfig(TrainConfig):
    """Settings of ``text3d train mvdiffusion`` (every one is recorded in the model card)."""

    items: int = setting(4500, "Training items (toyworld training seeds from 0), 4 views each.", "data",
                         "--items", 2, MAX_ITEMS)
    image_size: int = setting(32, "Side of each view in pixels (rendered at twice that, area-downsampled).",
                              "data", "--image-size", 8, 128)
    pitch_low: float = setting(10.0, "Lowest camera pitch of the training views (degrees).", "data")
    pitch_high: float = setting(40.0, "Highest camera pitch of the training views (degrees).", "data")
    steps: int = setting(5000, "Optimizer steps.", "model", "--steps", 1, MAX_TRAIN_STEPS)
    batch: int = setting(16, "Batch size (objects, 4 views each).", "model", "--batch", 1, MAX_BATCH)
    lr: float = setting(6e-4, "Peak learning rate (AdamW, cosine schedule to 0).", "model", "--lr", 0.0, 1.0,
                        low_open=True)
    warmup: int = setting(100, "Linear warm-up steps.", "model")
    weight_decay: float = setting(0.01, "AdamW weight decay (matrices only).", "model")
    width: int = setting(128, "Transformer width.", "model", "--width", 8, MAX_WIDTH)
    depth: int = setting(6, "Transformer blocks.", "model", "--depth", 1, 64)
    heads: int = setting(4, "Attention heads.", "model", "--heads", 1, 64)
    patch_size: int = setting(4, "Patch side in pixels (one token per patch and view).", "model",
                              "--patch-size", 1, 64)
    time_sampling: str = setting("uniform", "Flow times of training: logit-normal (σ(N(0, 1)), as SD3) or "
                                 "uniform.", "model", "--time-sampling")
    cond_dropout: float = setting(0.1, "Fraction of prompts dropped in training (classifier-free guidance).", "model")
    ema: float = setting(0.999, "Decay of the exponential moving average of the weights that is shipped "
                         "(ramped as min(ema, (1 + n)/(10 + n)) after n steps).", "model")
    dev_prompts: int = setting(90, "Development prompts (seeds from 1,000,000) sampled for the training report.",
                               "check", "--dev-prompts", 0, MAX_ITEMS)
    test_prompts: int = setting(90, "Test prompts (seeds from 1,900,000) sampled for the model card.", "check",
                                "--test-prompts", 0, MAX_ITEMS)
    sample_steps: int = setting(20, "Euler steps of the held-out samples.", "check", "--sample-steps", 1, 1000)
    guidance: float = setting(3.0, "Classifier-free guidance scale of the held-out samples.", "check",
                              "--guidance", 0.0, 100.0)
    checkpoint_every: int = setting(200, "Steps between resumable checkpoints.", RUNTIME, "--checkpoint-every",
                                    1, MAX_TRAIN_STEPS)


DATA_STAGES = ("shared", "data")
"""Stages the rendered view cache depends on."""
MODEL_STAGES = ("shared", "data", "model")
"""Stages a training checkpoint depends on."""
