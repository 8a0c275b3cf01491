"""``text3d train generator``: block VAE, then the rectified-flow DiT over its latents.

1. Data: toyworld training items with their exact 32³ occupancy + color grids, two
   renders each, and their texts (prompts, captions and the embedded augmenter's caption
   of the short prompt, which is what the pipeline conditions on by default).
2. Block VAE (see :mod:`text3d.nn.block_vae`), then every grid → latent means; the latent
   is standardized per channel (the stored ``latent_mean`` / ``latent_std``).
3. Flow DiT conditioned on MiniLM token states (text) or embedded image-encoder tokens
   (image, the GAP3D path), 10 % condition dropout for classifier-free guidance.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from text3d.train.encoders import cosine_lr

log = logging.getLogger(__name__)


@dataclass
class GeneratorTrainConfig:
    """Hyper-parameters of ``text3d train generator`` (recorded in the model card)."""

    seed: int = 0
    items: int = 13500
    vae_steps: int = 2500
    vae_batch: int = 48
    vae_lr: float = 1e-3
    vae_empty_keep: float = 0.15
    latent: int = 16
    steps: int = 4500
    batch: int = 32
    lr: float = 4e-4
    warmup: int = 200
    width: int = 256
    depth: int = 6
    cond_dropout: float = 0.1
    image_fraction: float = 0.25
    typed_variants: int = 2  # captions of each prompt retyped with outside color/size words
    device: str | None = None
    workers: int = 0
    checkpoint_every: int = 250


RESUME_FIELDS = ("seed", "items", "vae_steps", "vae_batch", "vae_lr", "vae_empty_keep", "latent", "steps", "batch",
                 "lr", "warmup", "width", "depth", "cond_dropout", "image_fraction", "typed_variants")
"""Settings a DiT checkpoint must share with the run that resumes it."""


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    import torch

    from text3d.store.atomic import write_atomic

    write_atomic(path, lambda handle: torch.save(state, handle))


def grids_tensor(data: dict[str, Any], index: np.ndarray) -> "torch.Tensor":  # noqa: F821
    """(B, 4, R, R, R) float grids (occupancy, linear RGB) of items ``index``."""
    import torch

    occ = torch.from_numpy(data["occupancy"][index]).float() / 255.0
    rgb = torch.from_numpy(data["grid_colors"][index]).float().permute(0, 4, 1, 2, 3) / 255.0
    return torch.cat([occ[:, None], rgb], dim=1)


def train_vae(data: dict[str, Any], config: GeneratorTrainConfig, log_file, progress: bool | None = None):
    """Train the block VAE; returns it in eval mode."""
    import torch

    from text3d.device import resolve_device
    from text3d.nn.block_vae import BlockVAE, BlockVAEConfig
    from text3d.progress import track

    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    vae = BlockVAE(BlockVAEConfig(resolution=data["occupancy"].shape[1], latent=config.latent)).to(device)
    optimizer = torch.optim.AdamW(vae.parameters(), lr=config.vae_lr, weight_decay=0.0)
    start = time.perf_counter()
    for step in track(range(config.vae_steps), description="block VAE", enabled=progress):
        for group in optimizer.param_groups:
            group["lr"] = cosine_lr(step, config.vae_steps, 100, config.vae_lr)
        grid = grids_tensor(data, rng.integers(len(data["occupancy"]), size=config.vae_batch)).to(device)
        loss, parts = vae.loss(grid, empty_keep=config.vae_empty_keep)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % 50 == 0 or step == config.vae_steps - 1:
            log_file.write(json.dumps({"model": "block-vae", "step": step, "loss": round(loss.item(), 5),
                                       **{k: round(v, 5) for k, v in parts.items()},
                                       "time_s": round(time.perf_counter() - start, 1)}) + "\n")
            log_file.flush()
    return vae.eval()


def encode_latents(vae, data: dict[str, Any], batch: int = 256) -> np.ndarray:
    """Latent means (N, tokens, latent) of every grid."""
    import torch

    device = next(vae.parameters()).device
    out = []
    with torch.inference_mode():
        for start in range(0, len(data["occupancy"]), batch):
            index = np.arange(start, min(start + batch, len(data["occupancy"])))
            out.append(vae.encode(grids_tensor(data, index).to(device))[0].cpu().numpy())
    return np.concatenate(out)


def item_text_pool(data: dict[str, Any], seed: int, typed_variants: int = 2) -> list[list[str]]:
    """Each item's training texts plus the embedded augmenter's captions of its prompt and of
    ``typed_variants`` versions of it typed with outside color/size words
    (:mod:`text3d.train.typed_variants`: "… (teeny cerulean sailboat).")."""
    from text3d.prompts import augment
    from text3d.train.typed_variants import typed_variant

    rng = np.random.default_rng(seed + 5)
    pools = []
    for item, texts in enumerate(data["texts"]):
        prompt = str(data["prompt"][item])
        prompts = list(dict.fromkeys([prompt] + [typed_variant(prompt, rng) for _ in range(typed_variants)]))
        extra = []
        for attempt, typed in enumerate(prompts):
            try:
                extra.append(augment(typed, llm="embedded", seed=seed + item + attempt).caption)
            except Exception as exc:  # an augmenter refusal must not stop training; the item keeps its own texts
                log.debug("augment failed for %r: %s", typed, exc)
        pools.append(list(dict.fromkeys(list(texts) + [e for e in extra if e])))
    return pools


def train_flow(data: dict[str, Any], latents: np.ndarray, config: GeneratorTrainConfig, log_file,
               image_tokens: "torch.Tensor | None" = None, progress: bool | None = None,  # noqa: F821
               checkpoint: Path | None = None):
    """Train the flow DiT on standardized latents; returns the model in eval mode.

    With ``checkpoint``, the model, EMA, optimizer and random states are saved there
    atomically every ``config.checkpoint_every`` steps, and a run with the same settings
    resumes from it (the file is removed when training ends)."""
    import torch

    from text3d.device import resolve_device
    from text3d.encoders.minilm import shared_text_encoder
    from text3d.nn.dit import DiTConfig, FlowDiT
    from text3d.nn.flow import flow_loss
    from text3d.progress import track

    device = resolve_device(config.device)
    torch.manual_seed(config.seed + 2)
    rng = np.random.default_rng(config.seed + 2)
    generator = torch.Generator(device=device).manual_seed(config.seed + 3)
    text_encoder = shared_text_encoder(config.device)
    pools = item_text_pool(data, config.seed, config.typed_variants)
    x_all = torch.from_numpy(latents).float()
    model = FlowDiT(DiTConfig(tokens=latents.shape[1], token_dim=latents.shape[2], width=config.width,
                              depth=config.depth, heads=8,
                              image_dim=image_tokens.shape[-1] if image_tokens is not None else 192)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.01, betas=(0.9, 0.99))
    ema = {k: v.detach().clone() for k, v in model.state_dict().items()}
    resume_key = {k: getattr(config, k) for k in RESUME_FIELDS}
    first_step = 0
    if checkpoint is not None and checkpoint.exists():
        saved = torch.load(checkpoint, map_location=device, weights_only=False)
        if saved.get("key") == resume_key:
            model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            ema = saved["ema"]
            rng.bit_generator.state = saved["rng"]
            generator.set_state(saved["generator"].cpu() if device.type != "cpu" else saved["generator"])
            first_step = int(saved["step"])
            log.info("resuming the flow DiT at step %d from %s", first_step, checkpoint)
        else:
            log.warning("%s was written with other settings; training the DiT from the start", checkpoint)
    start = time.perf_counter()
    use_bf16 = device.type in ("cpu", "cuda")
    for step in track(range(first_step, config.steps), description="flow DiT", enabled=progress,
                      total=config.steps - first_step):
        for group in optimizer.param_groups:
            group["lr"] = cosine_lr(step, config.steps, config.warmup, config.lr)
        index = rng.integers(len(x_all), size=config.batch)
        x1 = x_all[index].to(device)
        drop = torch.from_numpy(rng.random(config.batch) < config.cond_dropout).to(device)
        use_image = image_tokens is not None and rng.random() < config.image_fraction
        if use_image:
            view = rng.integers(image_tokens.shape[1], size=config.batch)
            tokens = image_tokens[torch.from_numpy(index), torch.from_numpy(view)].float().to(device)
            context, mask = model.condition(tokens, None, "image", drop)
        else:
            texts = [pools[i][int(rng.integers(len(pools[i])))] for i in index]
            encoding = text_encoder.encode(texts)  # made under inference_mode: clone into autograd-usable tensors
            context, mask = model.condition(encoding.tokens.float().clone(), encoding.mask.clone(), "text", drop)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            loss = flow_loss(model, x1, context, mask, generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        decay = min(0.999, (1 + step) / (10 + step))
        with torch.no_grad():
            for key, value in model.state_dict().items():
                if value.dtype.is_floating_point:
                    ema[key].mul_(decay).add_(value.detach(), alpha=1 - decay)
        if step % 25 == 0 or step == config.steps - 1:
            log_file.write(json.dumps({"model": "flow-dit", "step": step, "loss": round(loss.item(), 5),
                                       "modality": "image" if use_image else "text",
                                       "lr": round(optimizer.param_groups[0]["lr"], 7),
                                       "time_s": round(time.perf_counter() - start, 1)}) + "\n")
            log_file.flush()
        done = step + 1
        if checkpoint is not None and done % config.checkpoint_every == 0 and done < config.steps:
            _save_checkpoint(checkpoint, {"key": resume_key, "step": done, "model": model.state_dict(), "ema": ema,
                                          "optimizer": optimizer.state_dict(), "rng": rng.bit_generator.state,
                                          "generator": generator.get_state()})
    model.load_state_dict(ema)
    if checkpoint is not None:
        checkpoint.unlink(missing_ok=True)
    return model.eval()


def save_generator(folder: Path, vae, dit, latent_mean: np.ndarray, latent_std: np.ndarray,
                   training: dict[str, Any], card: str) -> Path:
    """One folder: VAE + DiT weights (float16), configs, latent statistics, sampler defaults."""
    from text3d.nn.checkpoint import save_folder

    state = {f"vae.{k}": v.half() for k, v in vae.state_dict().items()}
    state.update({f"dit.{k}": v.half() for k, v in dit.state_dict().items()})
    config = {"vae": vae.config.to_dict(), "dit": dit.config.to_dict(),
              "latent_mean": np.round(latent_mean, 6).tolist(), "latent_std": np.round(latent_std, 6).tolist(),
              "sampler": {"steps": 8, "cfg": 3.0}, "training": training}
    return save_folder(folder, state, config, card)
