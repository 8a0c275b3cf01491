"""Orchestration of ``text3d train generator``: data → block VAE → latents → flow DiT →
weights + model card (with a quick held-out check of what it generates)."""

from __future__ import annotations

import dataclasses
import json
import logging
import platform
import time
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch

from text3d.data.toyworld.instance import TEST_SEEDS, item_spec, make_instance
from text3d.data.toyworld.vocabulary import CATEGORIES, CATEGORY_NAMES, COLOR_NAMES, built_categories
from text3d.encoders.embedded import EmbeddedImageEncoder
from text3d.generators.backends.embedded import EmbeddedGenerator
from text3d.generators.base import Condition
from text3d.nn.block_vae import BlockVAE, BlockVAEConfig
from text3d.nn.checkpoint import load_folder, save_folder
from text3d.render.cameras import Camera
from text3d.render.renderer import render
from text3d.train.config import (
    GENERATOR_CHECK_N,
    VAE_STAGES,
    GeneratorTrainConfig,
    reproduce_command,
    settings_section,
    stage_key,
)
from text3d.train.data import DataSpec, TrainingData, build_data
from text3d.train.generator import encode_latents, save_generator, train_flow, train_vae

log = logging.getLogger(__name__)

DATA_VIEWS = 2
"""Renders per item, for image conditioning (meshes only, no voxel views)."""


def generator_card(config: GeneratorTrainConfig, seconds: dict[str, float], quality: dict[str, Any],
                   params: dict[str, int]) -> str:
    """The model card: the model, its training (every setting of ``config``), measured quality."""
    rows = "\n".join(f"| `{k}` | {v} |" for k, v in quality.items()) or "| (not measured) | |"
    total = sum(seconds.values())
    return f"""# text3d embedded generator

A TRELLIS-style latent flow at toy scale: a block VAE compresses 32³ occupancy + color
grids into 4³ latent tokens of {config.latent} channels; a rectified-flow DiT (width {config.width},
depth {config.depth}) generates those tokens with cross-attention to all-MiniLM-L6-v2 token states
(text) or to the embedded image encoder's CLS + register + patch tokens (image, the GAP3D
path); classifier-free guidance; Euler sampling (8 steps, CFG 3 by default); marching cubes at 0.5.

* Parameters: block VAE {params['vae']:,}, DiT {params['dit']:,} (weights stored in float16).
* Training data: toyworld training seeds (base seed 0), {config.items:,} items (categories
  round-robin) with exact 32³ grids (2× supersampled occupancy), {DATA_VIEWS} renders each for image
  conditioning, and their texts (prompts, captions, embedded-augmenter captions of the prompt
  and of {config.typed_variants} versions of it retyped with outside color/size words, whose
  caption ends with the typed words in parentheses; see `text3d.train.typed_variants`).
* Training: seed {config.seed}; VAE {config.vae_steps} steps at batch {config.vae_batch}; DiT {config.steps} steps at
  batch {config.batch}, lr {config.lr}, {int(config.cond_dropout * 100)} % condition dropout,
  {int(config.image_fraction * 100)} % of steps image-conditioned; EMA of the DiT weights; bf16 autocast.
* Wall time: data {seconds['data'] / 60:.1f} min, VAE {seconds['vae'] / 60:.1f} min, DiT {seconds['dit'] / 60:.1f} min,
  total {total / 60:.1f} min on {platform.processor() or platform.machine()}.
* Reproduce: `{reproduce_command("text3d train generator", config)}`

{settings_section(GeneratorTrainConfig, dataclasses.asdict(config))}
## Measured quality (toyworld's test range)

| figure | value |
|---|---|
{rows}
"""


def quick_check(folder: Path, n: int = GENERATOR_CHECK_N, seed: int = TEST_SEEDS.start) -> dict[str, Any]:
    """Generate from ``n`` basic prompts of toyworld's test range; category and color as the
    embedded encoder sees them."""
    generator = EmbeddedGenerator.from_pretrained(str(folder), candidates=1)  # one sample: the model alone
    encoder = EmbeddedImageEncoder.from_pretrained()
    programs = built_categories()
    images, cats, colors = [], [], []
    for i in range(n):
        category, s = item_spec(i, seed, programs)
        instance = make_instance(category, s, kind="basic")
        asset = generator.generate(Condition(instance.prompt), seed=i).asset
        images.append(render(asset, [Camera(yaw=45.0 * (i % 8), pitch=30.0, resolution=128)]).rgb[0])
        cats.append(CATEGORY_NAMES.index(category))
        colors.append(COLOR_NAMES.index(instance.attributes["color"]))
    _, emb = encoder.features(images)
    nouns = encoder.text_embeddings([f"a {CATEGORIES[c].noun}" for c in CATEGORY_NAMES])
    color_text = encoder.text_embeddings([f"a {c} object" for c in COLOR_NAMES])
    return {"check_prompts": n, "check_seed": seed,
            "category_match": round(float(np.mean((emb @ nouns.T).argmax(1) == np.array(cats))), 4),
            "color_accuracy": round(float(np.mean((emb @ color_text.T).argmax(1) == np.array(colors))), 4)}


def _cached_vae(out: Path, data: TrainingData, config: GeneratorTrainConfig, log_file: IO[str],
                progress: bool | None) -> BlockVAE:
    """The stage-1 VAE: trained once and kept in ``out/stage1-vae`` so a rerun (a resumed or
    re-tuned DiT training with the same data and VAE settings) skips it."""
    folder = out / "stage1-vae"
    key = stage_key(config, VAE_STAGES)
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


def train_generator(out: str | Path, config: GeneratorTrainConfig, check_n: int = GENERATOR_CHECK_N,
                    progress: bool | None = None) -> dict[str, Any]:
    """Train into ``out/generator``; returns timings and the quick check."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    data = build_data(DataSpec(n=config.items, views=DATA_VIEWS, voxel_prob=0.0, grids=True), out / "cache",
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
            views = data.images.shape[0] // config.items
            image_tokens = encoder.tokens(list(data.images)).half().reshape(config.items, views, -1,
                                                                            encoder.config.width)
        dit = train_flow(data, standardized, config, log_file, image_tokens, progress,
                         checkpoint=out / "stage2-dit.pt")
        seconds["dit"] = time.perf_counter() - start
    params = {"vae": sum(p.numel() for p in vae.parameters()), "dit": sum(p.numel() for p in dit.parameters())}
    training = {"config": dataclasses.asdict(config), "seconds": {k: round(v, 1) for k, v in seconds.items()},
                "torch": torch.__version__}
    folder = out / "generator"
    save_generator(folder, vae, dit, mean, std, training, generator_card(config, seconds, {}, params))
    quality = quick_check(folder, check_n) if check_n else {}
    if quality:
        save_generator(folder, vae, dit, mean, std, {**training, "quality": quality},
                       generator_card(config, seconds, quality, params))
    (out / "summary.json").write_text(json.dumps({"seconds": seconds, **quality}, indent=2))
    return {"seconds": {k: round(v, 1) for k, v in seconds.items()}, **quality}
