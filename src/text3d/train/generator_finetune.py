"""``text3d train generator --finetune PAIRS``: fine-tune the embedded generator's flow DiT on
text-3D pairs {x_nc, t_n} of a ``text3d bias augment`` run ("Multimodal Semantic Bias Mitigation
for Diverse Text-To-3D Generation", §3 fine-tuning), mixed with replay of toyworld training items.

1. Each pair's asset (GLB) → 32³ occupancy + color grid (:func:`asset_grid`) → the base model's
   block VAE (frozen) → latent tokens (64, 16), standardized with the base model's statistics.
   Its text: the original prompt t_n (the pair's text) or, with probability ``context_text``
   (default 0), the context prompt t_nc the asset was made for.
2. Replay: toyworld training items (base seed 0, the data the base model was trained on) with
   their exact grids and their training texts, encoded the same way (cached in the output folder).
3. Each step draws ``round(replay · batch)`` replay items and the rest from the pairs; flow
   matching loss as in training; AdamW, warm-up + cosine; checkpointed and resumable.

The output folder is a generator model folder (``config.json``, ``model.safetensors``,
``MODEL_CARD.md``) that ``--model DIR`` selects on every command of the embedded backend.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from text3d.assets.asset import Asset
from text3d.assets.io import load_asset
from text3d.assets.voxels import VoxelGrid
from text3d.data.toyworld.instance import item_spec, make_instance
from text3d.data.toyworld.vocabulary import built_categories
from text3d.device import resolve_device
from text3d.encoders.minilm import shared_text_encoder
from text3d.errors import InputError, ModelNotAvailableError
from text3d.generators.backends.embedded import GENERATOR_FOLDER
from text3d.nn import flow
from text3d.nn.block_vae import BlockVAE, BlockVAEConfig
from text3d.nn.checkpoint import load_folder, resolve_model_folder, save_folder
from text3d.nn.dit import DiTConfig, FlowDiT
from text3d.progress import track
from text3d.store.atomic import write_atomic, write_text
from text3d.store.pairs import pairs_digest, read_pairs
from text3d.train.config import RUNTIME, setting, settings_table
from text3d.train.generator import item_text_pool
from text3d.train.loop import Checkpoint, LossLog, cosine_lr, cpu_seconds, optimizer_step, set_lr

log = logging.getLogger(__name__)

CARD_FILE = "MODEL_CARD.md"
GRID_RESOLUTION = 32


@dataclass(frozen=True)
class FinetuneConfig:
    """Settings of ``text3d train generator --finetune`` (every one is recorded in the model card)."""

    steps: int = setting(300, "Fine-tuning optimizer steps of the DiT.", "dit")
    batch: int = setting(16, "Batch size (pairs + replay items).", "dit")
    lr: float = setting(5e-5, "Peak learning rate (AdamW, warm-up then cosine).", "dit")
    warmup: int = setting(20, "Linear warm-up steps.", "dit")
    replay: float = setting(0.5, "Share of each batch drawn from replayed toyworld training items.", "dit")
    replay_items: int = setting(512, "Toyworld training items (seeds from 0) available for replay.", "dit")
    # 0: the paper's pairs {x_nc, t_n} as they are; on development prompts 0 gave grouped +4.0 % against
    # +3.0 % for 0.5, complex and basic within 0.3 % (CHANGELOG)
    context_text: float = setting(0.0, "Probability that a pair is conditioned on its context prompt t_nc "
                                       "instead of the original prompt t_n.", "dit")
    cond_dropout: float = setting(0.1, "Fraction of conditions dropped (classifier-free guidance).", "dit")
    seed: int = setting(0, "Seed of batch sampling, noise and flow times.", "dit")
    checkpoint_every: int = setting(25, "Steps between resumable checkpoints.", RUNTIME)
    device: str | None = setting(None, "cpu, cuda, mps (default: best available).", RUNTIME)

    def __post_init__(self) -> None:
        for name in ("replay", "context_text", "cond_dropout"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InputError(f"finetune {name}={getattr(self, name)}: use a value in [0, 1]")
        if self.steps < 1 or self.batch < 1 or self.replay_items < 1:
            raise InputError("finetune: steps, batch and replay_items must be ≥ 1")


# ---------------------------------------------------------------------------------------- assets
def asset_grid(asset: Asset, resolution: int = GRID_RESOLUTION, supersample: int = 2, samples: int = 200_000,
               seed: int = 0, close: int = 2) -> VoxelGrid:
    """Occupancy (R, R, R) in [0, 1] and linear RGB colors (R, R, R, 3) of a mesh on the unit-cube
    grid of :class:`VoxelGrid`, with the toyworld grids' normalization (bounding-box center, longest
    side 1). Area-weighted surface samples mark the (R·s)³ surface cells, enclosed cells are filled
    (gaps of up to 2·``close`` cells closed first),
    and (R·s)³ → R³ by the mean of s³ cells; a voxel's color is the mean of its surface samples'
    (interpolated vertex colors), interior voxels take the nearest surface voxel's."""
    from scipy import ndimage

    mesh = asset.normalized()
    tri = mesh.vertices[mesh.faces].astype(np.float64)  # (F, 3 corners, 3)
    colors = mesh.colors_or_default()[:, :3][mesh.faces].astype(np.float64)  # (F, 3, 3)
    areas = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    if not np.isfinite(areas).all() or areas.sum() <= 0:
        raise InputError("asset: no surface to voxelize")
    rng = np.random.default_rng(seed)
    face = rng.choice(len(tri), size=samples, p=areas / areas.sum())
    r1, r2 = np.sqrt(rng.random(samples)), rng.random(samples)
    weights = np.stack([1 - r1, r1 * (1 - r2), r1 * r2], axis=1)[:, :, None]  # uniform barycentrics (n, 3, 1)
    points = (weights * tri[face]).sum(1)
    point_colors = (weights * colors[face]).sum(1)
    n = resolution * supersample
    fine = np.clip(np.floor((points + 0.5) * n).astype(np.int64), 0, n - 1)
    surface = np.zeros((n, n, n), bool)
    surface[fine[:, 0], fine[:, 1], fine[:, 2]] = True
    # open meshes (a sphere part whose pole is left open) would leak: close gaps of up to 2·close
    # fine cells by dilating the shell, filling, and eroding the solid back by as much
    shell = ndimage.binary_dilation(surface, iterations=close) if close else surface
    solid = ndimage.binary_fill_holes(shell)
    if close:
        solid = ndimage.binary_erosion(np.pad(solid, close), iterations=close)[close:-close, close:-close,
                                                                                close:-close] | surface
    occupancy = solid.reshape(resolution, supersample, resolution, supersample, resolution,
                              supersample).mean(axis=(1, 3, 5)).astype(np.float32)
    coarse = fine // supersample
    flat = np.ravel_multi_index(coarse.T, (resolution,) * 3)
    sums = np.zeros((resolution ** 3, 3))
    np.add.at(sums, flat, point_colors)
    counts = np.bincount(flat, minlength=resolution ** 3)
    has = (counts > 0).reshape((resolution,) * 3)
    grid_colors = (sums / np.maximum(counts, 1)[:, None]).reshape(resolution, resolution, resolution, 3)
    _, nearest = ndimage.distance_transform_edt(~has, return_indices=True)
    grid_colors = grid_colors[nearest[0], nearest[1], nearest[2]]
    grid_colors[occupancy == 0] = 0.0
    return VoxelGrid(occupancy, np.clip(grid_colors, 0, 1).astype(np.float32))


def grid_tensor(grids: list[VoxelGrid]) -> torch.Tensor:
    """(B, 4, R, R, R): occupancy then linear RGB, the block VAE's input."""
    occ = torch.from_numpy(np.stack([g.occupancy for g in grids])).float()
    rgb = torch.from_numpy(np.stack([g.colors for g in grids])).float().permute(0, 4, 1, 2, 3)
    return torch.cat([occ[:, None], rgb], dim=1)


def encode_grids(vae: BlockVAE, grids: list[VoxelGrid], batch: int = 64) -> np.ndarray:
    """Latent means (N, tokens, latent) of the grids."""
    device = next(vae.parameters()).device
    out = []
    with torch.inference_mode():
        for start in range(0, len(grids), batch):
            out.append(vae.encode(grid_tensor(grids[start:start + batch]).to(device))[0].float().cpu().numpy())
    return np.concatenate(out)


# ---------------------------------------------------------------------------------------- replay
def replay_set(vae: BlockVAE, n: int, cache: Path, base_key: str, progress: bool | None = None,
               ) -> tuple[np.ndarray, list[list[str]]]:
    """(raw latents (n, tokens, latent), text pools) of toyworld training items 0 … n−1: their exact
    grids encoded by ``vae`` and their prompts and captions plus the embedded augmenter's caption
    of the prompt (as in training). Cached in ``cache`` by ``n`` and the base model."""
    path = cache / f"replay-{n}-{base_key[:12]}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as arrays:
            return arrays["latents"], json.loads(str(arrays["pools"]))
    programs = built_categories()
    grids, texts, prompts = [], [], []
    for index in track(range(n), description="replay items", enabled=progress):
        category, seed = item_spec(index, 0, programs)
        instance = make_instance(category, seed)
        grids.append(instance.scene().voxel_grid(GRID_RESOLUTION))
        own = list(dict.fromkeys(list(instance.prompts.values()) + list(instance.captions)))
        texts.append([t for t in own if t != instance.prompts.get("paraphrase")])
        prompts.append(instance.prompt)
    latents = encode_grids(vae, grids)
    pools = item_text_pool(texts, prompts, 0, typed_variants=0)
    cache.mkdir(parents=True, exist_ok=True)
    write_atomic(path, lambda f: np.savez(f, latents=latents, pools=np.array(json.dumps(pools))))
    return latents, pools


# ---------------------------------------------------------------------------------------- training
def load_base(base: str | Path | None, device: torch.device,
              option: str = "--model") -> tuple[BlockVAE, FlowDiT, dict[str, Any], Path]:
    """(VAE, DiT, config, folder) of a generator model folder; one-line error naming ``option`` for a
    folder that is missing or holds another model (exit 2: the user's input, not a missing download)."""
    try:
        folder = resolve_model_folder(base, GENERATOR_FOLDER)
    except ModelNotAvailableError as error:
        if base in (None, "", "embedded", GENERATOR_FOLDER):
            raise  # the shipped model is missing from this checkout
        raise InputError(f"{option} {error}") from None
    state, config = load_folder(folder)
    if not {"vae", "dit", "latent_mean", "latent_std"} <= set(config):
        raise InputError(f"{option} {folder}: not an embedded generator model folder (its config.json has no "
                         "vae/dit/latent statistics)")
    vae = BlockVAE(BlockVAEConfig(**config["vae"]))
    dit = FlowDiT(DiTConfig(**config["dit"]))
    vae.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("vae.")})
    dit.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("dit.")})
    return vae.to(device).eval().requires_grad_(False), dit.to(device), config, folder


FINETUNE_FILES = ("config.json", "model.safetensors", "model-*.safetensors", "model.safetensors.index.json",
                  CARD_FILE, "cache", "train_log.jsonl", "finetune.pt", "finetune.other-settings.pt")
"""What a fine-tuned generator's folder holds (model, card, replay cache, loss log, checkpoint)."""


def base_digest(vae: BlockVAE, dit: FlowDiT, base_config: dict[str, Any]) -> str:
    """sha256 of the base model's settings and weights (VAE and DiT tensors in key order): two
    fine-tunings share a base only when both are the same, not merely the same architecture."""
    digest = hashlib.sha256(json.dumps({k: base_config[k] for k in ("vae", "dit", "latent_mean", "latent_std")},
                                       sort_keys=True).encode())
    for prefix, module in (("vae.", vae), ("dit.", dit)):
        for name, tensor in sorted(module.state_dict().items()):
            digest.update((prefix + name).encode())
            digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()


def finetune_key(config: FinetuneConfig, pairs_sha: str, base_sha: str) -> dict[str, Any]:
    """What a checkpoint or a finished folder must share with the run that reuses it."""
    settings = {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.metadata["stage"] != RUNTIME}
    return {**settings, "pairs_sha256": pairs_sha, "base": base_sha}


def finished_finetune(out: Path, key: dict[str, Any], option: str = "--out") -> dict[str, Any] | None:
    """The summary of the fine-tuning already finished in ``out`` with ``key`` (None: none there). A
    one-line error for a folder whose model files are not a fine-tuned generator's (a user's
    ``config.json``) or whose finished model was fine-tuned with other settings: training over it
    would replace it."""
    done = out / "config.json"
    ours = [p.name for p in (out / "model.safetensors", out / "model.safetensors.index.json", out / CARD_FILE)
            if p.exists()]
    if not done.exists():
        if ours:
            raise InputError(f"{option} {out}: holds {ours[0]} without a fine-tuned generator's config.json; give "
                             "a new or empty folder")
        return None
    try:
        saved = json.loads(done.read_text()).get("finetune")
    except (OSError, ValueError, AttributeError):
        saved = None
    if not isinstance(saved, dict) or not isinstance(saved.get("key"), dict):
        raise InputError(f"{option} {out}: its config.json is not a fine-tuned generator's; give a new or empty "
                         "folder")
    if saved["key"] != key:
        old = saved["key"]
        differs = sorted(k for k in set(old) | set(key) if old.get(k) != key.get(k))
        raise InputError(f"{option} {out}: holds a generator fine-tuned with other settings ({', '.join(differs)} "
                         "differ); give a new --out, or remove that folder to replace it")
    return saved


def finetune_generator(pairs: str | Path, out: str | Path, config: FinetuneConfig, base: str | Path | None = None,
                       progress: bool | None = None, cache: str | Path | None = None) -> dict[str, Any]:
    """Fine-tune the generator ``base`` (default: the shipped one) on ``pairs`` into the model folder
    ``out``; a finished folder with the same settings is returned as is, an interrupted one resumes.
    ``cache``: folder of the encoded replay items (default ``out/cache``; several runs may share
    one). Returns the summary written into the model's config (``finetune``)."""
    out = Path(out)
    rows, pairs_file = read_pairs(pairs)
    device = resolve_device(config.device)
    vae, dit, base_config, base_folder = load_base(base, device)
    if out.resolve() == base_folder.resolve():
        raise InputError(f"--out {out}: is the --model folder it starts from; give a new folder (the base model "
                         "is never overwritten)")
    key = finetune_key(config, pairs_digest(rows), base_digest(vae, dit, base_config))
    saved = finished_finetune(out, key)
    if saved is not None:
        log.info("%s is already fine-tuned with these settings", out)
        return saved
    out.mkdir(parents=True, exist_ok=True)
    cpu_start = cpu_seconds()
    start = time.perf_counter()
    pair_latents = encode_grids(vae, [asset_grid(load_asset(r["asset"]), seed=config.seed) for r in rows])
    n_replay = int(round(config.replay * config.batch))
    if n_replay:
        replay_latents, replay_pools = replay_set(vae, config.replay_items, Path(cache) if cache else out / "cache",
                                                   key["base"], progress)
    else:  # no replay: the items are not built (a draw of size 0 takes nothing from rng either)
        replay_latents, replay_pools = np.zeros((0, *pair_latents.shape[1:]), np.float32), []
    mean = np.asarray(base_config["latent_mean"], np.float32)
    std = np.asarray(base_config["latent_std"], np.float32)
    x_pairs = torch.from_numpy((pair_latents - mean) / std).float()
    x_replay = torch.from_numpy((replay_latents - mean) / std).float()
    prepare_s = time.perf_counter() - start

    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    generator = torch.Generator(device=device).manual_seed(config.seed + 1)
    text_encoder = shared_text_encoder(config.device)
    optimizer = torch.optim.AdamW(dit.parameters(), lr=config.lr, weight_decay=0.01, betas=(0.9, 0.99))
    resumable = Checkpoint(out / "finetune.pt", key, config.checkpoint_every, config.steps, "fine-tuned DiT",
                           cpu_start=cpu_start)
    first_step, saved = resumable.restore(dit, optimizer, rng, device)
    if saved is not None:
        generator.set_state(saved["generator"].cpu() if device.type != "cpu" else saved["generator"])
    dit.train()
    start = time.perf_counter()
    with (out / "train_log.jsonl").open("a") as log_file:
        losses = LossLog(log_file, "finetune-dit", config.steps, every=10, start=resumable.log_start)
        for step in track(range(first_step, config.steps), description="fine-tune DiT", enabled=progress,
                          total=config.steps - first_step):
            set_lr(optimizer, cosine_lr(step, config.steps, config.warmup, config.lr))
            pick = rng.integers(len(rows), size=config.batch - n_replay)
            old = rng.integers(len(x_replay), size=n_replay) if n_replay else np.zeros(0, np.int64)
            texts = [rows[i]["context"] if rows[i]["context"] and rng.random() < config.context_text
                     else rows[i]["text"] for i in pick]
            texts += [replay_pools[i][int(rng.integers(len(replay_pools[i])))] for i in old]
            x1 = torch.cat([x_pairs[torch.from_numpy(pick)], x_replay[torch.from_numpy(old)]]).to(device)
            drop = torch.from_numpy(rng.random(config.batch) < config.cond_dropout).to(device)
            encoding = text_encoder.encode(texts)  # made under inference_mode: cloned for autograd
            context, mask = dit.condition(encoding.tokens.float().clone(), encoding.mask.clone(), "text", drop)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type in ("cpu", "cuda")):
                loss = flow.flow_loss(dit, x1, context, mask, generator)
            optimizer_step(optimizer, loss, dit)
            if losses.due(step):
                losses.write(step, loss=round(loss.item(), 5), lr=round(optimizer.param_groups[0]["lr"], 8))
            resumable.save_after(step + 1, lambda: {"model": dit.state_dict(), "optimizer": optimizer.state_dict(),
                                                    "rng": rng.bit_generator.state,
                                                    "generator": generator.get_state()})
    train_s = time.perf_counter() - start
    summary = {"key": key, "pairs": len(rows), "pairs_file": str(pairs_file), "base": str(base_folder),
               "seconds": {"prepare": round(prepare_s, 1), "train": round(train_s, 1)},
               "cpu_minutes": round(resumable.cpu_seconds() / 60, 2),  # all attempts, when resumed
               "config": dataclasses.asdict(config), "torch": torch.__version__}
    state = {f"vae.{k}": v.half() for k, v in vae.state_dict().items()}
    state.update({f"dit.{k}": v.half() for k, v in dit.eval().state_dict().items()})
    model_config = {k: v for k, v in base_config.items() if k != "finetune"}
    save_folder(out, state, {**model_config, "finetune": summary}, max_shard_bytes=1 << 40)
    write_text(out / CARD_FILE, finetune_card(config, summary, rows))
    resumable.remove()
    return summary


def _replay_text(config: FinetuneConfig) -> str:
    """The card's words on the batch mix: "8 of them replayed from 512 toyworld training items", or no replay."""
    n = int(round(config.replay * config.batch))
    if n == 0:
        return "pairs only: no replay"
    return f"{n} of them replayed from {config.replay_items} toyworld training items"


def finetune_card(config: FinetuneConfig, summary: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """The fine-tuned model's card: base, pairs' source, steps, seed, mix and every setting."""
    prompts = sorted({r["text"] for r in rows})
    shown = ", ".join(f"“{p}”" for p in prompts[:8]) + (" …" if len(prompts) > 8 else "")
    return f"""# text3d embedded generator, fine-tuned on bias-mitigation pairs

The flow DiT of `{summary['base']}` fine-tuned on text-3D pairs {{x_nc, t_n}} of a semantic +
visual augmentation run ("Multimodal Semantic Bias Mitigation for Diverse Text-To-3D
Generation"), mixed with replay of toyworld training items; the block VAE is unchanged.

* Pairs: {summary['pairs']} from `{summary['pairs_file']}` (sha256 {summary['key']['pairs_sha256'][:16]}…),
  {len(prompts)} original prompts: {shown}
* Steps: {config.steps} at batch {config.batch} ({_replay_text(config)}), lr {config.lr}, seed {config.seed}.
* Wall time: prepare {summary['seconds']['prepare']} s, train {summary['seconds']['train']} s (this run);
  {summary.get('cpu_minutes', '?')} CPU-minutes over every attempt up to its last checkpoint.
* Use: `text3d generate "PROMPT" --model {{this folder}}`.

## Fine-tuning settings

Every setting of `FinetuneConfig` (`config.json`, `finetune.config`).

{settings_table(FinetuneConfig, dataclasses.asdict(config))}
"""
