"""Settings of ``text3d train turbo`` (standard library only, so ``text3d --help`` stays light).

Sized on this 2-core CPU, one torch thread: with a teacher of the default shape (width 128, depth 6,
32² views), an optimizer step of the default student (batch 2, K = 1 supervised step rendering 4
views by marching cubes at 32³ + OpenGL rasterization, forward and backward, and the guided teacher
pass whose RGB channels supervise the renders) costs ~0.44 CPU-seconds, so the default 11,000 steps
take ~78 CPU-minutes, within the 90 of the issue. Volume rendering as well (24 samples a ray) costs
~0.6 a step, and K = 4 ~3.3× a step: at the same CPU time they see fewer prompts, and the held-out
figures grow with the prompts seen. Mesh-only rendering and RGB-only supervision were adopted on
development prompts (README, TriplaneTurbo, "How the default was chosen").
"""

from __future__ import annotations

from dataclasses import dataclass

from text3d.limits import MAX_ITEMS
from text3d.train.config import MAX_BATCH, MAX_TRAIN_STEPS, RUNTIME, TrainConfig, setting


@dataclass(frozen=True)
class PRDTrainConfig(TrainConfig):
    """Settings of ``text3d train turbo`` (every one is recorded in the student's config.json)."""

    teacher: str | None = setting(None, "Embedded multi-view teacher folder (default: the shipped one).", "shared",
                                  "--teacher")
    adaptation: str = setting("peta", "Student adaptation: peta, lora (basic LoRA) or full (full fine-tuning).",
                              "model", "--adaptation")
    denoise_steps: int = setting(1, "K, the student's denoising steps (each one supervised).", "model",
                                 "--denoise-steps", 1, 4)
    plane_channels: int = setting(8, "Channels of each plane (more than the 4 texture channels).", "model",
                                  "--plane-channels", 5, 64)
    texture_channels: int = setting(4, "Of which feed the color head (the texture triplane).", "model")
    lora_rank: int = setting(4, "Rank of the LoRA adapters.", "model", "--lora-rank", 1, 256)
    cross_rank: int = setting(8, "Bottleneck of the cross-plane adapters (peta).", "model")
    prompts: int = setting(4500, "Training prompts (toyworld training seeds from 0; texts only).", "model",
                           "--prompts", 1, MAX_ITEMS)
    steps: int = setting(11000, "Optimizer steps.", "model", "--steps", 1, MAX_TRAIN_STEPS)
    batch: int = setting(2, "Prompts per optimizer step.", "model", "--batch", 1, MAX_BATCH)
    lr: float = setting(1e-3, "Peak learning rate (AdamW, cosine schedule to 0).", "model", "--lr", 0.0, 1.0,
                        low_open=True)
    warmup: int = setting(20, "Linear warm-up steps.", "model")
    weight_decay: float = setting(0.0, "AdamW weight decay (matrices only).", "model")
    renderers: str = setting("mesh", "Renders supervised: mesh, volume, or both (the paper's dual rendering).",
                             "model", "--renderers")
    supervise: str = setting("rgb", "Teacher channels that supervise the renders: rgb, or all (RGB + normal + "
                             "depth, the RichDreamer role).", "model", "--supervise")
    signal: str = setting("diffusion", "Teacher signal: diffusion (the multi-view teacher's guided estimate) or "
                          "generator (the embedded 3D generator's renders of each prompt from the same cameras).",
                          "model", "--signal")
    rgb_geometry: bool = setting(True, "RGB supervision reaches the geometry too (off: RGB trains the texture "
                                 "planes and color head only, normals and depth the geometry).", "model",
                                 "--rgb-geometry")
    samples: int = setting(24, "Volume-rendering samples per ray.", "model")
    inv_s_start: float = setting(32.0, "NeuS sharpness at the first step (1/world units).", "model")
    inv_s_end: float = setting(128.0, "NeuS sharpness at the last step.", "model")
    mesh_resolution: int = setting(32, "Marching-cubes lattice of mesh rendering.", "model")
    eikonal: float = setting(0.1, "Weight of the eikonal term (‖∇sdf‖ − 1)² on the volume samples.", "model")
    mesh_eikonal_points: int = setting(0, "Random points a step of an eikonal term for mesh rendering, which has "
                                       "no samples of its own (0: none).", "model", "--mesh-eikonal-points", 0,
                                       65536)
    guidance: float = setting(5.0, "Teacher classifier-free guidance scale.", "model", "--guidance", 0.0, 100.0)
    rgb_guidance: float = setting(0.0, "Guidance of the RGB channels' target alone (0: --guidance for every "
                                  "channel); normals and depth keep --guidance.", "model", "--rgb-guidance",
                                  0.0, 100.0)
    guidance_rescale: float = setting(0.0, "Guidance rescale φ of the teacher's targets (Lin et al., 2024): the guided "
                                      "estimate's spread pulled back toward the conditional one's (0: none).",
                                      "model", "--guidance-rescale", 0.0, 1.0)
    t_min: float = setting(0.02, "Lowest teacher noise level t of score distillation.", "model")
    t_max: float = setting(0.98, "Highest teacher noise level t at the first step.", "model", "--t-max", 0.0, 1.0)
    t_max_end: float = setting(0.98, "Highest teacher noise level at the last step (linear anneal from --t-max; "
                               "annealing down lets an empty scene satisfy the teacher).", "model",
                               "--t-max-end", 0.0, 1.0)
    probe_prompts: int = setting(4, "Development prompts of the fixed-noise probe loss (0 = none).", "check",
                                 "--probe-prompts", 0, 1000)
    probe_every: int = setting(25, "Steps between probe losses.", RUNTIME, "--probe-every", 1, MAX_TRAIN_STEPS)
    checkpoint_every: int = setting(25, "Steps between resumable checkpoints.", RUNTIME, "--checkpoint-every",
                                    1, MAX_TRAIN_STEPS)


MODEL_STAGES = ("shared", "model")
"""Stages a PRD checkpoint depends on."""
ADAPTATIONS = ("peta", "lora", "full")
RENDERERS = ("both", "volume", "mesh")
SUPERVISE = ("all", "rgb")
SIGNALS = ("diffusion", "generator")
TEACHER_ASSETS = "teacher_assets"
"""Where the generator-renders teacher keeps its assets while a student trains (removed when it finishes)."""
