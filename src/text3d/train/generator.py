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

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch

from text3d.device import resolve_device
from text3d.encoders.minilm import shared_text_encoder
from text3d.generators.backends.embedded import DEFAULT_PARTS
from text3d.nn import flow
from text3d.nn.block_vae import BlockVAE, BlockVAEConfig
from text3d.nn.checkpoint import save_folder
from text3d.nn.dit import DiTConfig, FlowDiT
from text3d.progress import track
from text3d.prompts import augment
from text3d.train.config import DIT_STAGES, GeneratorTrainConfig, stage_key
from text3d.train.data import TrainingData
from text3d.train.loop import Checkpoint, LossLog, cosine_lr, optimizer_step, set_lr
from text3d.train.typed_variants import typed_variant

log = logging.getLogger(__name__)

VAE_WARMUP = 100
"""Block VAE linear warm-up steps."""


def grids_tensor(data: TrainingData, index: np.ndarray) -> torch.Tensor:
    """(B, 4, R, R, R) float grids (occupancy, linear RGB) of items ``index``."""
    occ = torch.from_numpy(data.occupancy[index]).float() / 255.0
    rgb = torch.from_numpy(data.grid_colors[index]).float().permute(0, 4, 1, 2, 3) / 255.0
    return torch.cat([occ[:, None], rgb], dim=1)


def train_vae(data: TrainingData, config: GeneratorTrainConfig, log_file: IO[str],
              progress: bool | None = None) -> BlockVAE:
    """Train the block VAE; returns it in eval mode."""
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    vae = BlockVAE(BlockVAEConfig(resolution=data.occupancy.shape[1], latent=config.latent)).to(device)
    optimizer = torch.optim.AdamW(vae.parameters(), lr=config.vae_lr, weight_decay=0.0)
    losses = LossLog(log_file, "block-vae", config.vae_steps, every=50)
    for step in track(range(config.vae_steps), description="block VAE", enabled=progress):
        set_lr(optimizer, cosine_lr(step, config.vae_steps, VAE_WARMUP, config.vae_lr))
        grid = grids_tensor(data, rng.integers(len(data.occupancy), size=config.vae_batch)).to(device)
        loss, parts = vae.loss(grid, empty_keep=config.vae_empty_keep)
        optimizer_step(optimizer, loss)
        if losses.due(step):
            losses.write(step, loss=round(loss.item(), 5), **{k: round(v, 5) for k, v in parts.items()})
    return vae.eval()


def encode_latents(vae: BlockVAE, data: TrainingData, batch: int = 256) -> np.ndarray:
    """Latent means (N, tokens, latent) of every grid."""
    device = next(vae.parameters()).device
    out = []
    with torch.inference_mode():
        for start in range(0, len(data.occupancy), batch):
            index = np.arange(start, min(start + batch, len(data.occupancy)))
            out.append(vae.encode(grids_tensor(data, index).to(device))[0].cpu().numpy())
    return np.concatenate(out)


def item_text_pool(texts: Sequence[Sequence[str]], prompts: Sequence[str], seed: int,
                   typed_variants: int) -> list[list[str]]:
    """Each item's training ``texts`` plus the embedded augmenter's captions of its prompt and of
    ``typed_variants`` versions of it typed with outside color/size words
    (:mod:`text3d.train.typed_variants`: "… (teeny cerulean sailboat).")."""
    rng = np.random.default_rng(seed + 5)
    pools = []
    for item, own in enumerate(texts):
        prompt = str(prompts[item])
        typed_prompts = list(dict.fromkeys([prompt] + [typed_variant(prompt, rng) for _ in range(typed_variants)]))
        extra = []
        for attempt, typed in enumerate(typed_prompts):
            try:
                extra.append(augment(typed, llm="embedded", seed=seed + item + attempt).caption)
            except Exception as exc:  # an augmenter refusal must not stop training; the item keeps its own texts
                log.debug("augment failed for %r: %s", typed, exc)
        pools.append(list(dict.fromkeys(list(own) + [e for e in extra if e])))
    return pools

def train_flow(data: TrainingData, latents: np.ndarray, config: GeneratorTrainConfig, log_file: IO[str],
               image_tokens: torch.Tensor | None = None, progress: bool | None = None,
               checkpoint: Path | None = None) -> FlowDiT:
    """Train the flow DiT on standardized latents (N, tokens, latent); returns the model in eval mode.

    With ``checkpoint``, the model, EMA, optimizer and random states are saved there
    atomically every ``config.checkpoint_every`` steps, and a run with the same settings
    resumes from it (the file is removed when training ends)."""
    device = resolve_device(config.device)
    torch.manual_seed(config.seed + 2)
    rng = np.random.default_rng(config.seed + 2)
    generator = torch.Generator(device=device).manual_seed(config.seed + 3)
    text_encoder = shared_text_encoder(config.device)
    pools = item_text_pool(data.texts, data.prompt, config.seed, config.typed_variants)
    x_all = torch.from_numpy(latents).float()
    model = FlowDiT(DiTConfig(tokens=latents.shape[1], token_dim=latents.shape[2], width=config.width,
                              depth=config.depth, heads=8,
                              image_dim=image_tokens.shape[-1] if image_tokens is not None else 192)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.01, betas=(0.9, 0.99))
    ema = {k: v.detach().clone() for k, v in model.state_dict().items()}
    resumable = Checkpoint(checkpoint, stage_key(config, DIT_STAGES), config.checkpoint_every, config.steps,
                           "DiT")
    first_step, saved = resumable.restore(model, optimizer, rng, device)
    if saved is not None:
        ema = saved["ema"]
        generator.set_state(saved["generator"].cpu() if device.type != "cpu" else saved["generator"])
    losses = LossLog(log_file, "flow-dit", config.steps, start=resumable.log_start)
    use_bf16 = device.type in ("cpu", "cuda")
    for step in track(range(first_step, config.steps), description="flow DiT", enabled=progress,
                      total=config.steps - first_step):
        set_lr(optimizer, cosine_lr(step, config.steps, config.warmup, config.lr))
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
            loss = flow.flow_loss(model, x1, context, mask, generator)
        optimizer_step(optimizer, loss, model)
        decay = min(0.999, (1 + step) / (10 + step))
        with torch.no_grad():
            for key, value in model.state_dict().items():
                if value.dtype.is_floating_point:
                    ema[key].mul_(decay).add_(value.detach(), alpha=1 - decay)
        if losses.due(step):
            losses.write(step, loss=round(loss.item(), 5), modality="image" if use_image else "text",
                         lr=round(optimizer.param_groups[0]["lr"], 7))
        resumable.save_after(step + 1, lambda: {"model": model.state_dict(), "ema": ema,
                                                "optimizer": optimizer.state_dict(), "rng": rng.bit_generator.state,
                                                "generator": generator.get_state()})
    model.load_state_dict(ema)
    resumable.remove()
    return model.eval()


def save_generator(folder: Path, vae: BlockVAE, dit: FlowDiT, latent_mean: np.ndarray, latent_std: np.ndarray,
                   training: dict[str, Any], card: str) -> Path:
    """One folder: VAE + DiT weights (float16), configs, latent statistics and the parts the
    generator is assembled from (sampler, selector, rewriter, mesher, post-processors)."""
    state = {f"vae.{k}": v.half() for k, v in vae.state_dict().items()}
    state.update({f"dit.{k}": v.half() for k, v in dit.state_dict().items()})
    config = {"vae": vae.config.to_dict(), "dit": dit.config.to_dict(),
              "latent_mean": np.round(latent_mean, 6).tolist(), "latent_std": np.round(latent_std, 6).tolist(),
              **DEFAULT_PARTS.to_config(), "training": training}
    return save_folder(folder, state, config, card)
