"""Held-out image-conditioned flow loss of embedded generator folders: how well the image-token
path (with or without its adapter) predicts the velocity of items it never trained on.

The generator card's "held-out flow loss" column: toyworld development items (seeds from
1,000,000), both renders of each, the base block VAE's standardized latents as data and the
embedded image encoder's tokens of each render as the condition; the rectified-flow loss of
:func:`text3d.nn.flow.flow_loss` averaged over ``draws`` fixed (noise, t) draws, with no
condition dropout. Lower is better; folders are comparable when measured on the same items.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from text3d.encoders.embedded import EmbeddedImageEncoder
from text3d.nn import flow
from text3d.nn.block_vae import BlockVAE, BlockVAEConfig
from text3d.nn.checkpoint import load_folder, resolve_model_folder
from text3d.nn.dit import DiTConfig, FlowDiT
from text3d.train.data import DataSpec, TrainingData, build_data
from text3d.train.image_adapter import DATA_VIEWS, training_pairs

DEV_FIRST_SEED = 1_000_000
"""First development seed: the items no training used and no reported figure comes from."""


def development_items(cache: str | Path, n: int = 600, first_seed: int = DEV_FIRST_SEED, workers: int = 0,
                      progress: bool | None = None) -> TrainingData:
    """``n`` toyworld items from ``first_seed`` with the renders and grids the adapter trains on."""
    spec = DataSpec(n=n, base_seed=first_seed, views=DATA_VIEWS, voxel_prob=0.0, grids=True)
    return build_data(spec, Path(cache), workers=workers, progress=progress)


def folder_flow_loss(folder: str | Path | None, data: TrainingData, encoder: EmbeddedImageEncoder,
                     draws: int = 4, batch: int = 100) -> float:
    """Mean image-conditioned flow loss of the generator in ``folder`` (None: the shipped one) on
    ``data``: for each draw d (noise and t from a generator seeded d), each view and each batch of
    items, ``flow_loss`` (mean over the batch of ‖v̂ − (x₁ − x₀)‖² per element); the mean of those."""
    state, config = load_folder(resolve_model_folder(None if folder is None else str(folder), "generator"))
    vae = BlockVAE(BlockVAEConfig(**config["vae"]))
    vae.load_state_dict({k[4:]: v.float() for k, v in state.items() if k.startswith("vae.")})
    dit = FlowDiT(DiTConfig(**config["dit"]))
    dit.load_state_dict({k[4:]: v.float() for k, v in state.items() if k.startswith("dit.")})
    dit.eval()
    mean = torch.tensor(config["latent_mean"], dtype=torch.float32)
    std = torch.tensor(config["latent_std"], dtype=torch.float32)
    latents, tokens = training_pairs(data, vae.eval(), mean, std, encoder)  # (N, T, C), (N, V, L, D)
    losses = []
    with torch.inference_mode():
        for draw in range(draws):
            generator = torch.Generator().manual_seed(draw)
            for view in range(tokens.shape[1]):
                for start in range(0, len(latents), batch):
                    context, mask = dit.condition(tokens[start:start + batch, view].float(), None, "image")
                    losses.append(flow.flow_loss(dit, latents[start:start + batch], context, mask, generator).item())
    return float(sum(losses) / len(losses))


def heldout_flow_loss(folders: Sequence[str | Path | None], cache: str | Path, n: int = 600,
                      first_seed: int = DEV_FIRST_SEED, draws: int = 4) -> dict[str, float]:
    """:func:`folder_flow_loss` of each folder on the same ``n`` development items (rendered once
    into ``cache``), keyed by the folder as given ("shipped" for None)."""
    data = development_items(cache, n, first_seed)
    encoder = EmbeddedImageEncoder.from_pretrained(None)
    return {"shipped" if f is None else str(f): folder_flow_loss(f, data, encoder, draws) for f in folders}
