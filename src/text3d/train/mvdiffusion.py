"""``text3d train mvdiffusion``: the embedded multi-view diffusion teacher, trained on renders only.

Pipeline: toyworld training items (seeds from 0) rendered as 4 views of RGB + normal + depth at
32² (:mod:`text3d.train.mvdiffusion_data`) and the MiniLM token states of their texts, computed
once and cached → :class:`~text3d.nn.mvdiffusion.MultiViewDiT` trained by rectified flow
(:func:`text3d.nn.flow.flow_loss`: x_s = s·x₁ + (1 − s)·ε, target velocity x₁ − ε, s uniform by default),
with condition dropout for classifier-free guidance and an EMA of the weights → held-out check
(:mod:`text3d.train.mvdiffusion_eval`: the embedded image encoder's category accuracy and R@1 of
samples against the true renders of the same prompts) on development and test prompts →
``toyworld-mvdiffusion/`` (EMA weights in float16, config.json, model card). Seeded and resumable
(a checkpoint every ``checkpoint_every`` steps; the render and text caches are reused).
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from text3d.data.toyworld.instance import DEV_SEEDS, TEST_SEEDS, describe_seeds
from text3d.data.toyworld.vocabulary import built_categories
from text3d.encoders.embedded import EmbeddedImageEncoder
from text3d.encoders.minilm import shared_text_encoder
from text3d.errors import InputError
from text3d.nn.checkpoint import save_folder
from text3d.nn.flow import sample_timesteps
from text3d.nn.mvdiffusion import MultiViewDiT, MVDiffusionConfig, camera_features, sample_views, velocity_to_x0
from text3d.nn.teachers.base import TextEncoder
from text3d.nn.teachers.embedded import MODEL_NAME, EmbeddedMVTeacher
from text3d.progress import track
from text3d.store.atomic import write_atomic, write_json
from text3d.train.config import reproduce_command, stage_key, warn_cpu_only
from text3d.train.evaluator import pad_states, text_states
from text3d.train.loop import Checkpoint, LossLog, adamw_decay_groups, cosine_lr, cpu_seconds, optimizer_step, set_lr
from text3d.train.mvdiffusion_card import model_card
from text3d.train.mvdiffusion_config import MODEL_STAGES, MVDiffusionTrainConfig
from text3d.train.mvdiffusion_data import ViewSet, ViewSpec, build_views, dequantize
from text3d.train.mvdiffusion_eval import recognition, rgb_uint8, silhouette_agreement

log = logging.getLogger(__name__)

FOLDER = MODEL_NAME
DENOISE_LEVELS = (0.5, 0.8)
"""Noise levels t of the held-out one-step denoising check (the teacher as score distillation reads it)."""


def minilm_text_encoder(device: str = "cpu") -> TextEncoder:
    """The teacher's text encoder: prompts → (all-MiniLM-L6-v2 token states (B, L, 384), mask (B, L))."""
    encoder = shared_text_encoder(device)

    def encode(prompts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        encoding = encoder.encode(list(prompts))
        return encoding.tokens.float(), encoding.mask.bool()

    return encode


def load_embedded_teacher(path: str | Path | None = None, device: str = "cpu") -> EmbeddedMVTeacher:
    """The embedded teacher (default: the shipped weights) with its MiniLM text encoder."""
    return EmbeddedMVTeacher.from_pretrained(path, device, minilm_text_encoder(device))


def cached_text_states(texts: list[str], path: Path) -> dict[str, torch.Tensor]:
    """MiniLM token states of ``texts`` (:func:`~text3d.train.evaluator.text_states`), kept in float16 at
    ``path`` so that a resumed run skips the text encoder."""
    if path.exists():
        cached = torch.load(path, weights_only=True)
        if set(cached) == set(texts):
            return {k: v.float() for k, v in cached.items()}
    states = {k: v.half() for k, v in text_states(texts).items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda f: torch.save(states, f))
    return {k: v.float() for k, v in states.items()}  # a fresh run trains on what a resumed one reads


def mv_flow_loss(model: Callable[..., torch.Tensor], x1: torch.Tensor, context: torch.Tensor,
                 context_mask: torch.Tensor, time_sampling: str = "logit-normal") -> torch.Tensor:
    """Rectified-flow loss ‖v_θ(x_s, s) − (x₁ − ε)‖², x_s = s·x₁ + (1 − s)·ε, as
    :func:`text3d.nn.flow.flow_loss`, with s ~ σ(N(0, 1)) ("logit-normal") or U(0, 1) ("uniform": the
    ends of the path, where the last Euler steps remove the fine noise, get more weight)."""
    noise = torch.randn(x1.shape, device=x1.device)
    if time_sampling == "uniform":
        s = torch.rand(x1.shape[0], device=x1.device)
    elif time_sampling == "logit-normal":
        s = sample_timesteps(x1.shape[0], x1.device)
    else:
        raise InputError(f"time sampling {time_sampling!r}: use logit-normal or uniform")
    shape = (-1, *[1] * (x1.dim() - 1))
    v = model(s.view(shape) * x1 + (1 - s.view(shape)) * noise, s, context, context_mask)
    return ((v.float() - (x1 - noise)) ** 2).mean()


def update_ema(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """θ_ema ← d·θ_ema + (1 − d)·θ."""
    with torch.no_grad():
        for e, p in zip(ema.parameters(), model.parameters()):
            e.lerp_(p, 1.0 - decay)


def _train(model: MultiViewDiT, ema: MultiViewDiT, data: ViewSet, states: dict[str, torch.Tensor],
           config: MVDiffusionTrainConfig, out: Path, log_file, progress: bool | None) -> float:
    """Train ``model`` (and its EMA) for the steps not yet done; returns the CPU-seconds earlier, killed
    attempts had spent up to the checkpoint it resumed from (0 for a fresh run)."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    optimizer = adamw_decay_groups(model, config.lr, config.weight_decay)
    checkpoint = Checkpoint(out / "mvdiffusion.pt", stage_key(config, MODEL_STAGES), config.checkpoint_every,
                            config.steps, "multi-view teacher")
    start, saved = checkpoint.restore(model, optimizer, rng)
    if saved is not None:
        ema.load_state_dict(saved["ema"])
        torch.set_rng_state(saved["torch_rng"])
    losses = LossLog(log_file, "mvdiffusion", config.steps, start=checkpoint.log_start)
    views = torch.from_numpy(data.views)  # (N, V, 7, S, S) uint8
    cameras = camera_features(torch.from_numpy(data.c2w))  # (N, V, 16)
    model.train()
    for step in track(range(start, config.steps), total=config.steps - start, description="train mvdiffusion",
                      enabled=progress):
        set_lr(optimizer, cosine_lr(step, config.steps, config.warmup, config.lr))
        index = rng.integers(len(data), size=config.batch)
        pick = rng.integers(data.texts.shape[1], size=config.batch)  # the prompt or the caption
        drop = torch.from_numpy(rng.random(config.batch) < config.cond_dropout)
        text, mask = pad_states([states[data.texts[i, p]] for i, p in zip(index, pick)])
        context, context_mask = model.text_context(text, mask, drop)
        cams = cameras[index]

        def velocity(x: torch.Tensor, s: torch.Tensor, c: torch.Tensor, m: torch.Tensor,
                     cams: torch.Tensor = cams) -> torch.Tensor:
            return model(x, s, cams, c, m)

        loss = mv_flow_loss(velocity, dequantize_t(views[index]), context, context_mask, config.time_sampling)
        optimizer_step(optimizer, loss, model)
        update_ema(ema, model, min(config.ema, (1 + step) / (10 + step)))
        if losses.due(step):
            losses.write(step, loss=round(float(loss.detach()), 5), lr=optimizer.param_groups[0]["lr"])
        checkpoint.save_after(step + 1, lambda: {"model": model.state_dict(), "ema": ema.state_dict(),
                                                 "optimizer": optimizer.state_dict(), "rng": rng.bit_generator.state,
                                                 "torch_rng": torch.get_rng_state()})
    checkpoint.remove()
    return checkpoint.earlier_cpu_s


def dequantize_t(views: torch.Tensor) -> torch.Tensor:
    """uint8 views → float32 in [−1, 1] (torch twin of :func:`~text3d.train.mvdiffusion_data.dequantize`)."""
    return views.float() / 127.5 - 1.0


def sample_held_out(model: MultiViewDiT, data: ViewSet, steps: int, guidance: float, seed: int,
                    batch: int = 30, progress: bool | None = None) -> np.ndarray:
    """Samples (N, V, 7, S, S) float32 for the held-out items' prompts at their cameras (seeded)."""
    model.eval()
    states = text_states(list(data.texts[:, 0]))
    cameras = camera_features(torch.from_numpy(data.c2w))
    generator = torch.Generator().manual_seed(seed)
    out = []
    for start in track(range(0, len(data), batch), total=-(-len(data) // batch), description="sample views",
                       enabled=progress):
        stop = start + batch
        text, mask = pad_states([states[t] for t in data.texts[start:stop, 0]])
        out.append(sample_views(model, text, mask.bool(), cameras[start:stop], steps, guidance, generator).numpy())
    return np.concatenate(out)


def noised_held_out(data: ViewSet, t: float, seed: int, batch: int = 30):
    """Yield (start, stop, x_t) of the true views noised to level ``t``: x_t = (1 − t)·x₀ + t·ε (seeded)."""
    generator = torch.Generator().manual_seed(seed)
    for start in range(0, len(data), batch):
        stop = min(start + batch, len(data))
        x0 = dequantize_t(torch.from_numpy(data.views[start:stop]))
        yield start, stop, (1 - t) * x0 + t * torch.randn(x0.shape, generator=generator)


def blurred_held_out(data: ViewSet, t: float, seed: int) -> np.ndarray:
    """The classical baseline of :func:`denoised_held_out`: x_t (the same noise) rescaled by 1/(1 − t)
    and smoothed by a 3×3 binomial filter, [1 2 1]ᵀ[1 2 1]/16, per channel."""
    kernel = torch.tensor([1.0, 2.0, 1.0])
    kernel = (kernel[:, None] * kernel[None]) / 16
    out = []
    for _, _, xt in noised_held_out(data, t, seed):
        flat = xt.reshape(-1, 1, *xt.shape[-2:]) / (1 - t)
        out.append(torch.nn.functional.conv2d(flat, kernel[None, None], padding=1).reshape(xt.shape).numpy())
    return np.concatenate(out)


@torch.no_grad()
def denoised_held_out(model: MultiViewDiT, data: ViewSet, t: float, guidance: float, seed: int,
                      prompts: list[str] | None = None, batch: int = 30) -> np.ndarray:
    """The teacher's one-step estimate x̂₀ (N, V, 7, S, S) of the true views noised to level ``t``
    (x_t = (1 − t)·x₀ + t·ε; the quantity score distillation reads), for ``prompts`` (default: each
    item's own)."""
    model.eval()
    prompts = list(data.texts[:, 0]) if prompts is None else prompts
    states = text_states(sorted(set(prompts)))
    cameras = camera_features(torch.from_numpy(data.c2w))
    out = []
    for start, stop, xt in noised_held_out(data, t, seed, batch):
        text, mask = pad_states([states[p] for p in prompts[start:stop]])
        context, context_mask = model.text_context(text, mask.bool())
        null, null_mask = model.null_context(stop - start, "cpu")
        s = torch.full((stop - start,), 1 - t)
        v_c = model(xt, s, cameras[start:stop], context, context_mask)
        v_u = model(xt, s, cameras[start:stop], null, null_mask)
        out.append(velocity_to_x0(xt, s, v_u + guidance * (v_c - v_u)).numpy())
    return np.concatenate(out)


def check(model: MultiViewDiT, encoder: EmbeddedImageEncoder, n: int, base_seed: int,
          config: MVDiffusionTrainConfig, cache: Path, progress: bool | None = None,
          guidance: float | None = None) -> dict[str, Any]:
    """Recognition figures of samples for ``n`` held-out prompts from ``base_seed`` (canonical4 views)."""
    truth = build_views(ViewSpec(n, base_seed, config.image_size, random_cameras=False), cache,
                        config.workers, progress)
    w = config.guidance if guidance is None else guidance
    samples = sample_held_out(model, truth, config.sample_steps, w, config.seed, progress=progress)
    categories = list(truth.categories)
    figures: dict[str, Any] = recognition(encoder, rgb_uint8(samples), rgb_uint8(dequantize(truth.views)), categories)
    last = base_seed + (n - 1) // len(built_categories())
    true_rgb = rgb_uint8(dequantize(truth.views))
    shuffled = list(np.roll(truth.texts[:, 0], 1))  # each item denoised with its neighbour's prompt
    for t in DENOISE_LEVELS:
        own = denoised_held_out(model, truth, t, w, config.seed)
        other = denoised_held_out(model, truth, t, w, config.seed, shuffled)
        blurred = blurred_held_out(truth, t, config.seed)
        figures[f"denoise_t{t}"] = {"own_prompt": recognition(encoder, rgb_uint8(own), true_rgb, categories),
                                    "shuffled_prompt": recognition(encoder, rgb_uint8(other), true_rgb, categories),
                                    "blurred_input": recognition(encoder, rgb_uint8(blurred), true_rgb, categories)}
    return {"seeds": describe_seeds(base_seed, last)["line"], "guidance": w, "sample_steps": config.sample_steps,
            **figures, "silhouette_agreement": silhouette_agreement(samples),
            "silhouette_agreement_true_renders": silhouette_agreement(dequantize(truth.views))}


def check_architecture(config: MVDiffusionTrainConfig) -> None:
    """Refuse (one line, before any rendering) a teacher shape the network cannot build: whole patches,
    a width that splits into the heads, and an even width (the sin-cos position table pairs channels)."""
    if config.image_size % config.patch_size:
        raise InputError(f"--image-size {config.image_size} / --patch-size {config.patch_size}: the image size "
                         "must be a multiple of the patch size")
    if config.width % config.heads or config.width % 2:
        raise InputError(f"--width {config.width} / --heads {config.heads}: the width must be even and a multiple "
                         "of the heads")


def train_mvdiffusion(out: str | Path, config: MVDiffusionTrainConfig, progress: bool | None = None,
                      image_encoder: str | None = None) -> dict[str, Any]:
    """Train into ``out/toyworld-mvdiffusion`` and return the measured figures."""
    check_architecture(config)
    warn_cpu_only(config, "train mvdiffusion")
    # one thread: on the shared 2-core machine two threads oversubscribe (see the other trainers)
    torch.set_num_threads(1)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0, c0 = time.perf_counter(), cpu_seconds()
    data = build_views(ViewSpec(config.items, 0, config.image_size, True, config.pitch_low, config.pitch_high),
                       out / "cache", config.workers, progress)
    states = cached_text_states(sorted(set(data.texts.ravel().tolist())), out / "cache" / f"mvdiffusion-text-"
                                f"{ViewSpec(config.items, 0, config.image_size).key()}.pt")
    data_seconds = time.perf_counter() - t0
    torch.manual_seed(config.seed)
    model_config = MVDiffusionConfig(image_size=config.image_size, patch_size=config.patch_size, width=config.width,
                                     depth=config.depth, heads=config.heads)
    model = MultiViewDiT(model_config)
    ema = copy.deepcopy(model).requires_grad_(False)
    t1 = time.perf_counter()
    with (out / "train_log.jsonl").open("a") as log_file:
        earlier_cpu_s = _train(model, ema, data, states, config, out, log_file, progress)
    train_seconds = time.perf_counter() - t1
    encoder = EmbeddedImageEncoder.from_pretrained(image_encoder, "cpu")
    quality: dict[str, Any] = {}
    for name, n, base in (("dev", config.dev_prompts, DEV_SEEDS.start), ("test", config.test_prompts,
                                                                          TEST_SEEDS.start)):
        if n:
            quality[name] = check(ema, encoder, n, base, config, out / "cache", progress)
    training = {"config": dataclasses.asdict(config), "items": len(data), "data_seconds": round(data_seconds, 1),
                "train_seconds": round(train_seconds, 1), "check_seconds": round(time.perf_counter() - t1
                                                                                 - train_seconds, 1),
                "cpu_minutes": round((earlier_cpu_s + cpu_seconds() - c0) / 60, 1),  # all attempts, when resumed
                "hardware": platform.processor() or platform.machine(),
                "command": reproduce_command("text3d train mvdiffusion", config)}
    params = sum(p.numel() for p in ema.parameters())
    save_folder(out / FOLDER, {k: v.half() for k, v in ema.state_dict().items()},
                {"model": model_config.to_dict(), "training": training, "quality": quality},
                model_card(training, quality, params))
    figures = {"seconds": round(time.perf_counter() - t0, 1), "parameters": params, **quality}
    write_json(out / "summary.json", figures)
    return figures


def evaluate_folder(folder: str | Path, cache: str | Path, split: str = "dev", n: int = 90, guidance: float = 3.0,
                    sample_steps: int = 20, seed: int = 0, image_encoder: str | None = None) -> dict[str, Any]:
    """:func:`check` of a trained model folder on ``n`` prompts of ``split`` ("dev" to choose settings
    such as the guidance scale, "test" to report), with renders cached under ``cache``."""
    from text3d.nn.checkpoint import load_folder

    state, saved = load_folder(Path(folder))
    model = MultiViewDiT(MVDiffusionConfig(**saved["model"]))
    model.load_state_dict(state)
    config = dataclasses.replace(MVDiffusionTrainConfig(), image_size=model.config.image_size, seed=seed,
                                 sample_steps=sample_steps, workers=1)
    base = {"dev": DEV_SEEDS.start, "test": TEST_SEEDS.start}[split]
    encoder = EmbeddedImageEncoder.from_pretrained(image_encoder, "cpu")
    return check(model, encoder, n, base, config, Path(cache), guidance=guidance)
