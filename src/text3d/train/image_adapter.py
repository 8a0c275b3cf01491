"""``text3d train image-adapter``: an image-prompt adapter for the embedded generator, trained with
the rest of the generator frozen (the decoupling of IP-Adapter (Ye et al., 2023)).

The generator's image-token path is where GAP3D (Gkotsi et al., 2026) injects its tokens. The DiT
learned it on a quarter of its steps, through one linear projection, so image tokens condition it
less well than captions do. The adapter adds ``depth`` self-attention blocks over the projected
image tokens (:class:`text3d.nn.dit.FlowDiT`); the adapter, the image projection and the image null
tokens are trained, nothing else. The text path is unchanged, bit for bit.

1. Data: the generator's own training items (the same :class:`DataSpec`, so the cache of
   ``text3d train generator`` in the same folder is reused), two renders each.
2. The base model's block VAE (frozen) → latent tokens, standardized with the base statistics;
   the embedded image encoder → CLS + register + patch tokens of each render.
3. Flow loss of the base model, image-conditioned, with condition dropout; AdamW, warm-up then
   cosine; EMA of the trained weights; checkpointed and resumable.

The output is a complete generator folder (``OUT/generator``) that ``--model`` selects.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import time
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch

from text3d.device import resolve_device
from text3d.encoders.embedded import EmbeddedImageEncoder
from text3d.errors import InputError, ModelNotAvailableError
from text3d.generators.backends.embedded import DEFAULT_PARTS, GENERATOR_FOLDER
from text3d.generators.parts import PartSpecs
from text3d.nn import flow
from text3d.nn.block_vae import BlockVAE, BlockVAEConfig
from text3d.nn.checkpoint import load_folder, resolve_model_folder, save_folder, weights_sha256
from text3d.nn.dit import DiTConfig, FlowDiT
from text3d.progress import track
from text3d.train.config import (
    ADAPTER_STAGES,
    ImageAdapterTrainConfig,
    reproduce_command,
    settings_table,
    stage_key,
)
from text3d.train.data import DataSpec, TrainingData, build_data
from text3d.train.generator import grids_tensor
from text3d.train.loop import Checkpoint, LossLog, cosine_lr, optimizer_step, set_lr

log = logging.getLogger(__name__)

BASE_PREFIX = "base."
"""Prefix of the base model's image projection and null tokens, kept in an adapted folder so the
base is recovered exactly (and the adapter retrained from the shipped folder)."""
BASE_IMAGE_PATH = ("dit.cond_proj.image.weight", "dit.cond_proj.image.bias", "dit.null.image")
ADAPTER_SECTION = "\n## Image-path adapter\n"
DATA_VIEWS = 2
"""Renders per item: those of ``text3d train generator``, so its data cache serves both."""


def recover_base(state: dict[str, torch.Tensor], config: dict[str, Any], card: str,
                 digest: str) -> tuple[dict[str, torch.Tensor], dict[str, Any], str, str]:
    """(state, config, card, weights digest) of the generator an adapted folder was made from: its
    adapter removed and its image projection and null tokens restored from the ``base.`` copies; a
    folder without an adapter is returned as it is."""
    if not config["dit"].get("image_adapter", 0):
        return state, config, card, digest
    if not all(BASE_PREFIX + key in state for key in BASE_IMAGE_PATH):
        raise InputError("the generator has an image adapter but not its base's image path (base.*); "
                         "start from the generator it was trained on")
    base = {k: v for k, v in state.items() if not k.startswith(("dit.image_adapter.", BASE_PREFIX))}
    base.update({key: state[BASE_PREFIX + key] for key in BASE_IMAGE_PATH})
    training = {k: v for k, v in config.get("training", {}).items() if k != "image_adapter"}
    record = config.get("training", {}).get("image_adapter", {})
    return (base, {**config, "dit": {**config["dit"], "image_adapter": 0}, "training": training},
            card.split(ADAPTER_SECTION)[0], record.get("base_sha256", "unknown"))


def adapter_model(state: dict[str, torch.Tensor], config: dict[str, Any], depth: int) -> FlowDiT:
    """The base DiT (float32) with a fresh ``depth``-block image adapter; only the adapter, the image
    projection and the image null tokens require gradients. A base that already has an adapter is
    refused: its text path must stay the one it was trained with."""
    if config["dit"].get("image_adapter", 0):
        raise ValueError("the base generator already has an image adapter; start from one without")
    dit = FlowDiT(DiTConfig(**{**config["dit"], "image_adapter": depth}))
    missing, unexpected = dit.load_state_dict({k[4:]: v.float() for k, v in state.items() if k.startswith("dit.")},
                                              strict=False)
    if unexpected or not all(k.startswith("image_adapter.") for k in missing):
        raise ValueError(f"the base generator's DiT does not match its config: {missing[:3]} {unexpected[:3]}")
    dit.requires_grad_(False)
    for module in (dit.image_adapter, dit.cond_proj["image"]):
        module.requires_grad_(True)
    dit.null["image"].requires_grad_(True)
    return dit


INIT_KEYS = ("dit.image_adapter.", "dit.cond_proj.image.", "dit.null.image")
"""The weights ``--init`` carries over from an adapted folder: those the adapter run trains."""


def init_adapter(dit: FlowDiT, init: str, base_sha: str) -> dict[str, Any]:
    """Load the trained image-path weights (:data:`INIT_KEYS`) of the adapted generator folder ``init``
    into ``dit``; returns {sha256, the init's own adapter record} for the card. Refused (one line): a
    folder without an adapter, one of another depth, or one adapted from another base."""
    try:
        folder = resolve_model_folder(init, GENERATOR_FOLDER)
        state, config = load_folder(folder)
    except (InputError, ModelNotAvailableError) as error:
        said = str(error)  # the message names the folder already when it starts with it
        raise InputError(f"--init {said}" if said.startswith(str(init)) else f"--init {init}: {said}") from None
    record = config.get("training", {}).get("image_adapter")
    depth = config.get("dit", {}).get("image_adapter", 0)
    if not depth or record is None:
        raise InputError(f"--init {init}: the generator has no image adapter to start from")
    if depth != dit.config.image_adapter:
        raise InputError(f"--init {init}: its adapter has {depth} blocks, not --depth {dit.config.image_adapter}")
    if record.get("base_sha256") != base_sha:
        raise InputError(f"--init {init}: its adapter was trained on another base generator "
                         f"({record.get('base_sha256')}, not {base_sha})")
    carried = {k[4:]: v.float() for k, v in state.items() if k.startswith(INIT_KEYS)}
    own = {k for k in dit.state_dict() if ("dit." + k).startswith(INIT_KEYS)}
    if set(carried) != own:
        raise InputError(f"--init {init}: its image-path weights do not match the adapter "
                         f"({sorted(own ^ set(carried))[:3]})")
    dit.load_state_dict(carried, strict=False)
    return {"sha256": weights_sha256(folder), "record": record}


def noisy_tokens(tokens: torch.Tensor, level: float, generator: torch.Generator) -> torch.Tensor:
    """tokens (B, L, D) + a·(‖x‖/√D)·ε per token, a ~ U(0, ``level``) per sample, ε ~ N(0, I): noise of
    relative norm ≈ a, so the adapter also learns from tokens that are only near a render's (as a
    generated sequence is)."""
    if level <= 0:
        return tokens
    a = torch.rand(tokens.shape[0], 1, 1, device=tokens.device, generator=generator) * level
    scale = tokens.norm(dim=-1, keepdim=True) / tokens.shape[-1] ** 0.5
    return tokens + a * scale * torch.randn(tokens.shape, device=tokens.device, generator=generator)


def training_pairs(data: TrainingData, vae: BlockVAE, mean: torch.Tensor, std: torch.Tensor,
                   encoder: EmbeddedImageEncoder, batch: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """(standardized latents (N, T, C) float32, image tokens (N, V, 1 + R + G², D) float16)."""
    latents = []
    with torch.inference_mode():
        for start in range(0, data.items, batch):
            index = np.arange(start, min(start + batch, data.items))
            latents.append(vae.encode(grids_tensor(data, index))[0].float())
    standardized = ((torch.cat(latents) - mean) / std).float()
    views = len(data.images) // data.items
    tokens = encoder.tokens(list(data.images)).half().reshape(data.items, views, -1, encoder.config.width)
    return standardized, tokens


def train_adapter(dit: FlowDiT, latents: torch.Tensor, tokens: torch.Tensor, config: ImageAdapterTrainConfig,
                  log_file: IO[str], checkpoint: Path | None = None, progress: bool | None = None) -> FlowDiT:
    """Train the image adapter in place on (latent, image tokens) pairs; returns ``dit`` in eval mode
    holding the EMA of the trained weights."""
    device = resolve_device(config.device)
    dit = dit.to(device).train()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    generator = torch.Generator(device=device).manual_seed(config.seed + 1)
    trained = {name: p for name, p in dit.named_parameters() if p.requires_grad}
    optimizer = torch.optim.AdamW(list(trained.values()), lr=config.lr, weight_decay=0.01, betas=(0.9, 0.99))
    ema = {name: p.detach().clone() for name, p in trained.items()}
    resumable = Checkpoint(checkpoint, stage_key(config, ADAPTER_STAGES), config.checkpoint_every, config.steps,
                           "image adapter")
    first, saved = resumable.restore(dit, optimizer, rng, device)
    if saved is not None:
        ema = saved["ema"]
        generator.set_state(saved["generator"].cpu())
    losses = LossLog(log_file, "image-adapter", config.steps, start=resumable.log_start)
    for step in track(range(first, config.steps), description="image adapter", enabled=progress,
                      total=config.steps - first):
        set_lr(optimizer, cosine_lr(step, config.steps, config.warmup, config.lr))
        index = rng.integers(len(latents), size=config.batch)
        view = rng.integers(tokens.shape[1], size=config.batch)
        condition = noisy_tokens(tokens[torch.from_numpy(index), torch.from_numpy(view)].float().to(device),
                                 config.token_noise, generator)
        drop = torch.from_numpy(rng.random(config.batch) < config.cond_dropout).to(device)
        context, mask = dit.condition(condition, None, "image", drop)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type in ("cpu", "cuda")):
            loss = flow.flow_loss(dit, latents[index].to(device), context, mask, generator)
        optimizer_step(optimizer, loss, dit)
        decay = min(0.999, (1 + step) / (10 + step))
        with torch.no_grad():
            for name, p in trained.items():
                ema[name].mul_(decay).add_(p.detach(), alpha=1 - decay)
        if losses.due(step):
            losses.write(step, loss=round(loss.item(), 5), lr=round(optimizer.param_groups[0]["lr"], 7))
        resumable.save_after(step + 1, lambda: {"model": dit.state_dict(), "optimizer": optimizer.state_dict(),
                                                "rng": rng.bit_generator.state, "ema": ema,
                                                "generator": generator.get_state()})
    with torch.no_grad():
        for name, p in trained.items():
            p.copy_(ema[name])
    resumable.remove()
    return dit.eval().requires_grad_(False)


def init_chain(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The adapter records of the runs ``record`` started from (``--init``), oldest first, then ``record``."""
    chain = [record]
    while chain[0].get("init"):
        chain.insert(0, chain[0]["init"]["record"])
    return chain


def reproduce_line(record: dict[str, Any]) -> str:
    """The card's reproduce line: the run's command, after those of the runs it started from (``--init``),
    each writing into the folder the next one's ``--init`` names."""
    chain = [r["command"] for r in init_chain(record)]
    if len(chain) == 1:
        return f"`{chain[0]}`"
    outs = [f"RUN{i + 1}" for i in range(len(chain) - 1)] + ["DIR"]
    commands = []
    for i, command in enumerate(chain):
        command = command.replace("--out DIR", f"--out {outs[i]}", 1)
        if i:
            command = re.sub(r"--init \S+", f"--init {outs[i - 1]}/generator", command)
        commands.append(f"`{command}`")
    return ", then ".join(commands)


def trained_steps(record: dict[str, Any]) -> str:
    """"6000 steps", or for a run started from another's adapter (``--init``), the runs' steps in
    order and their sum ("6000 + 4000 = 10000 steps (each run with its own warm-up and cosine schedule)")."""
    chain = [r["config"]["steps"] for r in init_chain(record)]
    if len(chain) == 1:
        return f"{chain[0]} steps"
    return f"{' + '.join(map(str, chain))} = {sum(chain)} steps (each run with its own warm-up and cosine schedule)"


def adapter_card(base_card: str, config: ImageAdapterTrainConfig, record: dict[str, Any]) -> str:
    """The base model's card with a section on the adapter: what, how trained, every setting."""
    values = dataclasses.asdict(config)
    return f"""{base_card.rstrip()}
{ADAPTER_SECTION}
An image-prompt adapter on the image-token path (`text3d.train.image_adapter`): {config.depth} self-attention
blocks over the projected image tokens, trained {trained_steps(record)} at batch {config.batch} with the rest of
the generator frozen ({record['trained_parameters']:,} trained parameters: the adapter, the image projection
and the image null tokens). The text path is the base model's, bit for bit, and the folder keeps the
base's image projection and null tokens (`base.*`), so the command below retrains the adapter from
this folder itself. Base weights: sha256
`{record['base_sha256']}…`; {record['seconds'] / 60:.1f} min on {record['hardware']}; final loss (mean of the
logged steps in the last tenth of training) {record['final_loss']}.

* Reproduce: {reproduce_line(record)}

### Adapter training settings

Every setting of `ImageAdapterTrainConfig` the adapter was trained with (`config.json`,
`training.image_adapter.config`).

{settings_table(ImageAdapterTrainConfig, values)}
"""


def adapt_generator(out: str | Path, config: ImageAdapterTrainConfig, progress: bool | None = None) -> dict[str, Any]:
    """Train the adapter into ``out/generator`` (data cache, loss log and checkpoint in ``out``)."""
    import platform

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    folder = resolve_model_folder(config.base, GENERATOR_FOLDER)
    card = (folder / "README.md").read_text() if (folder / "README.md").exists() else "# text3d generator\n"
    state, base_config = load_folder(folder)
    if not {"vae", "dit", "latent_mean", "latent_std"} <= set(base_config):
        raise InputError(f"--model {folder}: not an embedded generator model folder (config.json has no "
                         "vae/dit/latent statistics)")
    PartSpecs.from_config(base_config, DEFAULT_PARTS).build("cpu")  # a part the output could not use: refused now
    state, base_config, base_card, base_sha = recover_base(state, base_config, card, weights_sha256(folder))
    start = time.perf_counter()
    torch.manual_seed(config.seed)  # the adapter's initialization
    dit = adapter_model(state, base_config, config.depth)
    init = init_adapter(dit, config.init, base_sha) if config.init else None
    vae = BlockVAE(BlockVAEConfig(**base_config["vae"]))
    vae.load_state_dict({k[4:]: v.float() for k, v in state.items() if k.startswith("vae.")})
    data = build_data(DataSpec(n=config.items, views=DATA_VIEWS, voxel_prob=0.0, grids=True), out / "cache",
                      workers=config.workers, progress=progress)
    mean = torch.tensor(base_config["latent_mean"], dtype=torch.float32)
    std = torch.tensor(base_config["latent_std"], dtype=torch.float32)
    latents, tokens = training_pairs(data, vae.eval(), mean, std, EmbeddedImageEncoder.from_pretrained(None))
    del data
    with (out / "train_log.jsonl").open("a") as log_file:
        dit = train_adapter(dit, latents, tokens, config, log_file, out / "image-adapter.pt", progress)
    records = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    logged = [r for r in records if r.get("model") == "image-adapter"]
    # the logged steps in the last tenth of training; a run too short to log there, its last logged step
    recent = [r["loss"] for r in logged if r["step"] >= 0.9 * config.steps] or [r["loss"] for r in logged[-1:]]
    record = {"config": dataclasses.asdict(config), "base_sha256": base_sha,
              "trained_parameters": sum(p.numel() for n, p in dit.named_parameters()
                                        if n.startswith(("image_adapter.", "cond_proj.image.", "null.image"))),
              "seconds": round(time.perf_counter() - start, 1), "hardware": platform.processor() or platform.machine(),
              "final_loss": round(float(np.mean(recent)), 5) if recent else None, "torch": torch.__version__,
              "command": reproduce_command("text3d train image-adapter", config), "init": init}
    new_state = {k: v.half() for k, v in state.items() if not k.startswith("dit.")}  # stored in float16
    new_state.update({f"dit.{k}": v.half() for k, v in dit.state_dict().items()})
    new_state.update({BASE_PREFIX + key: state[key].half() for key in BASE_IMAGE_PATH})
    new_config = {**base_config, "dit": dit.config.to_dict(),
                  "training": {**base_config.get("training", {}), "image_adapter": record}}
    save_folder(out / GENERATOR_FOLDER, new_state, new_config, adapter_card(base_card, config, record))
    return {k: record[k] for k in ("seconds", "final_loss", "trained_parameters")}

