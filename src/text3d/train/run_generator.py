"""Orchestration of ``text3d train generator``: data → block VAE → latents → flow DiT →
weights + model card (with a quick held-out check of what it generates)."""

from __future__ import annotations

import json
import logging
import platform
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from text3d.train.generator import GeneratorTrainConfig

log = logging.getLogger(__name__)


def _card(config: GeneratorTrainConfig, data_info: dict[str, Any], seconds: dict[str, float],
          quality: dict[str, Any], params: dict[str, int]) -> str:
    rows = "\n".join(f"| `{k}` | {v} |" for k, v in quality.items()) or "| (not measured) | |"
    total = sum(seconds.values())
    return f"""# text3d embedded generator

A TRELLIS-style latent flow at toy scale: a block VAE compresses 32³ occupancy + color
grids into 4³ latent tokens of {config.latent} channels; a rectified-flow DiT (width {config.width},
depth {config.depth}) generates those tokens with cross-attention to all-MiniLM-L6-v2 token states
(text) or to the embedded image encoder's CLS + register + patch tokens (image, the GAP3D
path); classifier-free guidance; Euler sampling (8 steps, CFG 3 by default); marching cubes at 0.5.

* Parameters: block VAE {params['vae']:,}, DiT {params['dit']:,} (weights stored in float16).
* Training data: toyworld training seeds (base seed 0), {data_info['items']:,} items (categories
  round-robin) with exact 32³ grids (2× supersampled occupancy), two renders each for image
  conditioning, and their texts (prompts, captions, embedded-augmenter captions of the prompt
  and of {config.typed_variants} versions of it retyped with outside color/size words, whose
  caption ends with the typed words in parentheses; see `text3d.train.typed_variants`).
* Training: seed {config.seed}; VAE {config.vae_steps} steps at batch {config.vae_batch}; DiT {config.steps} steps at
  batch {config.batch}, lr {config.lr}, {int(config.cond_dropout * 100)} % condition dropout,
  {int(config.image_fraction * 100)} % of steps image-conditioned; EMA of the DiT weights; bf16 autocast.
* Wall time: data {seconds['data'] / 60:.1f} min, VAE {seconds['vae'] / 60:.1f} min, DiT {seconds['dit'] / 60:.1f} min,
  total {total / 60:.1f} min on {platform.processor() or platform.machine()}.
* Reproduce: `text3d train generator --out DIR --seed {config.seed} --steps {config.steps}`

## Measured quality

| figure | value |
|---|---|
{rows}
"""


def quick_check(folder: Path, n: int = 90, seed: int = 1_000_000) -> dict[str, Any]:
    """Generate from ``n`` held-out basic prompts; category and color as the embedded encoder sees them."""
    from text3d.data.toyworld.instance import item_spec, make_instance
    from text3d.data.toyworld.style import load_programs
    from text3d.data.toyworld.vocabulary import CATEGORIES, CATEGORY_NAMES, COLOR_NAMES
    from text3d.encoders.embedded import EmbeddedImageEncoder
    from text3d.generators.backends.embedded import EmbeddedGenerator
    from text3d.generators.base import Condition
    from text3d.render.cameras import Camera
    from text3d.render.renderer import render

    generator = EmbeddedGenerator.from_pretrained(str(folder))
    encoder = EmbeddedImageEncoder.from_pretrained()
    programs = tuple(c for c in CATEGORY_NAMES if c in load_programs())
    images, cats, colors = [], [], []
    for i in range(n):
        category, s = item_spec(i, seed, programs)
        instance = make_instance(category, s, kind="basic")
        asset = generator.generate(Condition(instance.prompt), seed=i, candidates=1).asset  # the model alone
        images.append(render(asset, [Camera(yaw=45.0 * (i % 8), pitch=30.0, resolution=128)]).rgb[0])
        cats.append(CATEGORY_NAMES.index(category))
        colors.append(COLOR_NAMES.index(instance.attributes["color"]))
    _, emb = encoder.features(images)
    nouns = encoder.text_embeddings([f"a {CATEGORIES[c].noun}" for c in CATEGORY_NAMES])
    color_text = encoder.text_embeddings([f"a {c} object" for c in COLOR_NAMES])
    return {"check_prompts": n, "check_seed": seed,
            "category_match": round(float(np.mean((emb @ nouns.T).argmax(1) == np.array(cats))), 4),
            "color_accuracy": round(float(np.mean((emb @ color_text.T).argmax(1) == np.array(colors))), 4)}


def _cached_vae(out: Path, data: dict[str, Any], config: GeneratorTrainConfig, log_file, progress: bool | None):
    """The stage-1 VAE: trained once and kept in ``out/stage1-vae`` so a rerun (a resumed or
    re-tuned DiT training with the same data and VAE settings) skips it."""
    from text3d.nn.block_vae import BlockVAE, BlockVAEConfig
    from text3d.nn.checkpoint import load_folder, save_folder
    from text3d.train.generator import train_vae

    folder = out / "stage1-vae"
    key = {"items": config.items, "vae_steps": config.vae_steps, "vae_batch": config.vae_batch,
           "vae_lr": config.vae_lr, "latent": config.latent, "seed": config.seed}
    if (folder / "config.json").exists():
        state, saved = load_folder(folder)
        if saved.get("key") == key:
            vae = BlockVAE(BlockVAEConfig(**saved["model"]))
            vae.load_state_dict(state)
            log.info("reusing the stage-1 VAE in %s", folder)
            return vae.eval()
    vae = train_vae(data, config, log_file, progress)
    save_folder(folder, vae.state_dict(), {"model": vae.config.to_dict(), "key": key})
    return vae


def train_generator(out: str | Path, config: GeneratorTrainConfig, check_n: int = 90,
                    progress: bool | None = None) -> dict[str, Any]:
    """Train into ``out/generator``; returns timings and the quick check."""
    import torch

    from text3d.encoders.embedded import EmbeddedImageEncoder
    from text3d.train.data import DataSpec, build_data
    from text3d.train.generator import encode_latents, save_generator, train_flow

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    data = build_data(DataSpec(n=config.items, views=2, voxel_prob=0.0, grids=True), out / "cache",
                      workers=config.workers, progress=progress)
    seconds["data"] = time.perf_counter() - start
    with (out / "train_log.jsonl").open("a") as log_file:
        start = time.perf_counter()
        vae = _cached_vae(out, data, config, log_file, progress)
        latents = encode_latents(vae, data)
        seconds["vae"] = time.perf_counter() - start
        mean = latents.reshape(-1, latents.shape[-1]).mean(0)
        std = latents.reshape(-1, latents.shape[-1]).std(0) + 1e-6
        standardized = ((latents - mean) / std).astype(np.float32)
        start = time.perf_counter()
        image_tokens = None
        if config.image_fraction > 0:
            encoder = EmbeddedImageEncoder.from_pretrained(device=config.device)
            views = data["images"].shape[0] // config.items
            image_tokens = encoder.tokens(list(data["images"])).half().reshape(config.items, views, -1,
                                                                               encoder.config.width)
        dit = train_flow(data, standardized, config, log_file, image_tokens, progress,
                         checkpoint=out / "stage2-dit.pt")
        seconds["dit"] = time.perf_counter() - start
    params = {"vae": sum(p.numel() for p in vae.parameters()), "dit": sum(p.numel() for p in dit.parameters())}
    data_info = {"items": config.items}
    training = {"config": asdict(config), "seconds": {k: round(v, 1) for k, v in seconds.items()},
                "torch": torch.__version__}
    folder = out / "generator"
    save_generator(folder, vae, dit, mean, std, training, _card(config, data_info, seconds, {}, params))
    quality = quick_check(folder, check_n) if check_n else {}
    if quality:
        save_generator(folder, vae, dit, mean, std, {**training, "quality": quality},
                       _card(config, data_info, seconds, quality, params))
    (out / "summary.json").write_text(json.dumps({"seconds": seconds, **quality}, indent=2))
    return {"seconds": {k: round(v, 1) for k, v in seconds.items()}, **quality}
