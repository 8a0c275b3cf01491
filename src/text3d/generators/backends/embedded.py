"""The embedded generator: rectified-flow DiT over block-VAE latents of 32³ grids.

text (MiniLM token states) or image-encoder tokens → sampler (Euler with classifier-free
guidance) → 4³ × 16 latent tokens per candidate → block VAE decoder → 32³ occupancy + color →
mesher (marching cubes at 0.5) → selector (best of K by the point encoder) → post-processors
(crease normals, normalization to [-0.5, 0.5]³, material).

The models (VAE, DiT, latent statistics) come from the weights folder. The parts are named in
its ``config.json`` (``rewriter``, ``sampler``, ``mesher``, ``selector``, ``postprocessors``; see
:mod:`text3d.generators.parts`), built by ``from_pretrained`` and passed to ``__init__``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from text3d.assets.asset import Asset
from text3d.assets.voxels import VoxelGrid
from text3d.device import resolve_device
from text3d.encoders.minilm import shared_text_encoder
from text3d.errors import InputError
from text3d.generators.base import Condition, Generator, GeneratorOutput, generators
from text3d.generators.parts import PartSpec, PartSpecs
from text3d.generators.postprocess import Mesher, PostProcessor
from text3d.generators.rewriters import Rewriter
from text3d.generators.samplers import Sampler
from text3d.generators.selectors import Selector
from text3d.nn.checkpoint import build_network, load_checked, load_folder, resolve_model_folder

log = logging.getLogger(__name__)

GENERATOR_FOLDER = "generator"

DEFAULT_PARTS = PartSpecs(
    rewriter=PartSpec("nearest_category"),
    sampler=PartSpec("euler_flow", {"steps": 8, "cfg": 3.0, "image_cfg": 2.0}),
    mesher=PartSpec("marching_cubes", {"level": 0.5, "rescue_peak": 0.75}),
    selector=PartSpec("best_of_category", {"candidates": 6}),
    postprocessors=(PartSpec("crease_normals", {"degrees": 70.0}), PartSpec("normalize"),
                    PartSpec("material", {"roughness": 0.6})),
)
"""The parts of a weights folder whose ``config.json`` names none (those of the shipped model)."""


@generators.register("embedded")
class EmbeddedGenerator(Generator):
    """Text- or image-token-conditioned 3D generator trained on toyworld."""

    name = "embedded"
    weights_folder = GENERATOR_FOLDER
    options = frozenset({"candidates"})
    token_conditioned = True

    def __init__(self, vae: Any, dit: Any, latent_mean: np.ndarray, latent_std: np.ndarray, device: Any, model: str,
                 *, rewriter: Rewriter, sampler: Sampler, mesher: Mesher, selector: Selector,
                 postprocessors: Sequence[PostProcessor] = ()) -> None:
        import torch

        self.vae = vae.eval().requires_grad_(False)
        self.dit = dit.eval().requires_grad_(False)
        self.mean = torch.as_tensor(latent_mean, dtype=torch.float32, device=device)
        self.std = torch.as_tensor(latent_std, dtype=torch.float32, device=device)
        self.device = device
        self.model = model
        self.rewriter = rewriter
        self.sampler = sampler
        self.mesher = mesher
        self.selector = selector
        self.postprocessors = tuple(postprocessors)

    @property
    def default_steps(self) -> int:
        return self.sampler.steps

    @property
    def default_cfg(self) -> float:
        return self.sampler.cfg

    @classmethod
    def from_pretrained(cls, name_or_path: str | None = None, device: str | None = None,
                        candidates: int | None = None) -> "EmbeddedGenerator":
        """The model of the weights folder ``name_or_path`` (default: the shipped one) with the parts
        its config names; ``candidates`` replaces the selector's number of candidates."""
        from text3d.nn.block_vae import BlockVAE, BlockVAEConfig  # torch: off the light import path
        from text3d.nn.dit import DiTConfig, FlowDiT

        folder = resolve_model_folder(name_or_path, GENERATOR_FOLDER)
        state, config = load_folder(folder)
        if not {"vae", "dit", "latent_mean", "latent_std"} <= set(config):
            raise InputError(f"--model {folder}: not an embedded generator model folder (config.json has no "
                             "vae/dit/latent statistics)")
        specs = PartSpecs.from_config(config, DEFAULT_PARTS)
        if candidates is not None:
            specs = specs.with_args("selector", candidates=int(candidates))
        vae = build_network(BlockVAE, BlockVAEConfig, config["vae"], folder, "vae")
        dit = build_network(FlowDiT, DiTConfig, config["dit"], folder, "dit")
        load_checked(vae, {k[4:]: v for k, v in state.items() if k.startswith("vae.")}, folder, "VAE")
        load_checked(dit, {k[4:]: v for k, v in state.items() if k.startswith("dit.")}, folder, "DiT")
        for key in ("latent_mean", "latent_std"):  # one value per latent channel
            if np.shape(config[key]) != (dit.config.token_dim,):
                raise InputError(f"{folder / 'config.json'}: {key} must hold {dit.config.token_dim} numbers "
                                 f"(the DiT's token_dim), not shape {np.shape(config[key])}")
        dev = resolve_device(device)
        parts = specs.build(str(dev))
        name = "embedded" if Path(folder).parent.name == "weights" else str(folder)
        return cls(vae.to(dev), dit.to(dev), np.array(config["latent_mean"]), np.array(config["latent_std"]), dev,
                   f"text3d-flow-{name}", rewriter=parts.rewriter, sampler=parts.sampler, mesher=parts.mesher,
                   selector=parts.selector, postprocessors=parts.postprocessors)

    # ------------------------------------------------------------------ sampling
    def _context(self, condition: Condition) -> tuple[Any, Any, str]:
        """(context (1, L, W), mask (1, L), modality) of the DiT's cross-attention."""
        import torch

        if condition.tokens is not None:
            tokens = torch.as_tensor(np.asarray(condition.tokens) if not torch.is_tensor(condition.tokens)
                                     else condition.tokens, dtype=torch.float32, device=self.device)
            if tokens.dim() == 2:
                tokens = tokens[None]
            context, mask = self.dit.condition(tokens, None, "image")
            return context, mask, "image"
        encoding = shared_text_encoder(str(self.device)).encode([condition.text])
        context, mask = self.dit.condition(encoding.tokens.float(), encoding.mask, "text")
        return context, mask, "text"

    def sample_latents(self, condition: Condition, seed: int = 0, steps: int | None = None,
                       cfg: float | None = None, count: int = 1) -> "torch.Tensor":  # noqa: F821
        """Standardized → raw latent tokens (count, N, D) for ``condition``; sample j starts from
        the noise of seed ``seed + j`` (so ``count=1`` is the single sample of ``seed``)."""
        import torch

        with torch.inference_mode():
            context, mask, modality = self._context(condition)
            context, mask = context.expand(count, -1, -1), mask.expand(count, -1)
            null, null_mask = self.dit.null_condition(count, modality, self.device)
            shape = (1, self.dit.config.tokens, self.dit.config.token_dim)
            noise = self.sampler.noise(shape, [int(seed) + j for j in range(count)], self.device)
            cfg = self.sampler.cfg_for(modality) if cfg is None else cfg
            x = self.sampler(self.dit, noise, context, mask, null, null_mask, steps=steps, cfg=cfg)
            return x * self.std + self.mean

    def decode(self, latents: "torch.Tensor") -> list[VoxelGrid]:  # noqa: F821
        """Latent tokens (B, N, D) → B voxel grids (occupancy (R, R, R), colors (R, R, R, 3))."""
        import torch

        with torch.inference_mode():
            occupancy, colors = self.vae.decode(latents)
        return [VoxelGrid(o.float().cpu().numpy(), c.permute(1, 2, 3, 0).float().cpu().numpy())
                for o, c in zip(occupancy, colors)]

    def generate(self, condition: Condition, seed: int = 0, steps: int | None = None,
                 cfg: float | None = None) -> GeneratorOutput:
        """Rewrite the condition, sample the selector's number of candidates (seeds ``seed`` …
        ``seed + K - 1``), mesh them, keep the one the selector picks and post-process it. One
        sample when the prompt names no single category, or for image-token conditions."""
        rewrite = self.rewriter(condition)
        modality = "text" if rewrite.condition.tokens is None else "image"
        info: dict[str, Any] = {"steps": steps or self.sampler.steps,
                                "cfg": self.sampler.cfg_for(modality) if cfg is None else cfg, **rewrite.info}
        warnings = list(rewrite.warnings)
        count = self.selector.count(rewrite.category)
        meshed = [self.mesher(grid) for grid in self.decode(self.sample_latents(rewrite.condition, seed, steps, cfg,
                                                                                  count))]
        chosen = 0
        if count > 1:
            selection = self.selector([m.asset for m in meshed], rewrite.category)
            chosen = selection.index
            info["candidates"] = {"count": count, "chosen_seed": seed + chosen, "category": selection.category,
                                  "probabilities": [round(p, 4) for p in selection.probabilities]}
        kept = meshed[chosen]
        if kept.warning:
            warnings.append(kept.warning)
        asset: Asset = kept.asset
        for postprocess in self.postprocessors:
            asset = postprocess(asset)
        info["occupied_voxels"] = kept.occupied_voxels
        return GeneratorOutput(asset=asset, info=info, warnings=warnings)
