"""The embedded generator: rectified-flow DiT over block-VAE latents of 32³ grids.

text (MiniLM token states) or image-encoder tokens → Euler sampling with classifier-free
guidance → 4³ × 16 latent tokens → block VAE decoder → 32³ occupancy + color → marching
cubes at 0.5 → colored mesh with smooth normals, normalized to [-0.5, 0.5]³.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from text3d.generators.base import Condition, Generator, GeneratorOutput, generators

log = logging.getLogger(__name__)

GENERATOR_FOLDER = "generator"


@generators.register("embedded")
class EmbeddedGenerator(Generator):
    """Text- or image-token-conditioned 3D generator trained on toyworld."""

    name = "embedded"
    default_steps = 8
    default_cfg = 3.0
    default_candidates = 6

    def __init__(self, vae, dit, latent_mean: np.ndarray, latent_std: np.ndarray, device, model: str,
                 sampler: dict | None = None) -> None:
        import torch

        self.vae = vae.eval().requires_grad_(False)
        self.dit = dit.eval().requires_grad_(False)
        self.mean = torch.as_tensor(latent_mean, dtype=torch.float32, device=device)
        self.std = torch.as_tensor(latent_std, dtype=torch.float32, device=device)
        self.device = device
        self.model = model
        sampler = sampler or {}
        self.default_steps = int(sampler.get("steps", self.default_steps))
        self.default_cfg = float(sampler.get("cfg", self.default_cfg))
        self.default_candidates = int(sampler.get("candidates", self.default_candidates))
        self._point_encoder = None

    @classmethod
    def from_pretrained(cls, name_or_path: str | None = None, device: str | None = None) -> "EmbeddedGenerator":
        from text3d.device import resolve_device
        from text3d.nn.block_vae import BlockVAE, BlockVAEConfig
        from text3d.nn.checkpoint import load_folder, resolve_model_folder
        from text3d.nn.dit import DiTConfig, FlowDiT

        folder = resolve_model_folder(name_or_path, GENERATOR_FOLDER)
        state, config = load_folder(folder)
        vae = BlockVAE(BlockVAEConfig(**config["vae"]))
        dit = FlowDiT(DiTConfig(**config["dit"]))
        vae.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("vae.")})
        dit.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("dit.")})
        dev = resolve_device(device)
        name = "embedded" if Path(folder).parent.name == "weights" else str(folder)
        return cls(vae.to(dev), dit.to(dev), np.array(config["latent_mean"]), np.array(config["latent_std"]), dev,
                   f"text3d-flow-{name}", config.get("sampler"))

    # ------------------------------------------------------------------ sampling
    def _context(self, condition: Condition):
        import torch

        if condition.tokens is not None:
            tokens = torch.as_tensor(np.asarray(condition.tokens) if not torch.is_tensor(condition.tokens)
                                     else condition.tokens, dtype=torch.float32, device=self.device)
            if tokens.dim() == 2:
                tokens = tokens[None]
            context, mask = self.dit.condition(tokens, None, "image")
            return context, mask, "image"
        from text3d.encoders.minilm import shared_text_encoder

        encoding = shared_text_encoder(str(self.device)).encode([condition.text])
        context, mask = self.dit.condition(encoding.tokens.float(), encoding.mask, "text")
        return context, mask, "text"

    def sample_latents(self, condition: Condition, seed: int = 0, steps: int | None = None,
                       cfg: float | None = None, count: int = 1) -> "torch.Tensor":  # noqa: F821
        """Standardized → raw latent tokens (count, N, D) for ``condition``; sample j starts from
        the noise of seed ``seed + j`` (so ``count=1`` is the single sample of ``seed``)."""
        import torch

        from text3d.nn.flow import euler_sample

        with torch.inference_mode():
            context, mask, modality = self._context(condition)
            context, mask = context.expand(count, -1, -1), mask.expand(count, -1)
            null, null_mask = self.dit.null_condition(count, modality, self.device)
            shape = (1, self.dit.config.tokens, self.dit.config.token_dim)
            noise = torch.cat([torch.randn(shape, generator=torch.Generator(device="cpu").manual_seed(int(seed) + j))
                               for j in range(count)]).to(self.device)
            x = euler_sample(self.dit, noise, context, mask, null, null_mask, steps=steps or self.default_steps,
                             cfg=self.default_cfg if cfg is None else cfg)
            return x * self.std + self.mean

    def decode(self, latents: "torch.Tensor") -> list:  # noqa: F821
        """Latent tokens (B, N, D) → B :class:`~text3d.assets.voxels.VoxelGrid`."""
        import torch

        from text3d.assets.voxels import VoxelGrid

        with torch.inference_mode():
            occupancy, colors = self.vae.decode(latents)
        return [VoxelGrid(o.float().cpu().numpy(), c.permute(1, 2, 3, 0).float().cpu().numpy())
                for o, c in zip(occupancy, colors)]

    def point_encoder(self):
        """The embedded point encoder that picks among candidates (loaded on first use)."""
        if self._point_encoder is None:
            from text3d.encoders.embedded import EmbeddedPointEncoder

            self._point_encoder = EmbeddedPointEncoder.from_pretrained(device=str(self.device))
        return self._point_encoder

    def generate(self, condition: Condition, seed: int = 0, steps: int | None = None,
                 cfg: float | None = None, candidates: int | None = None) -> GeneratorOutput:
        """Sample ``candidates`` assets (seeds ``seed`` … ``seed + K - 1``) and keep the one the point
        encoder finds most like the category the prompt names (:mod:`text3d.generators.best_of`);
        one sample when the prompt names no single category or for image-token conditions."""
        from text3d.assets.normals import crease_normals
        from text3d.generators.closed_vocabulary import nearest_known_text

        warnings: list[str] = []
        info: dict = {"steps": steps or self.default_steps, "cfg": self.default_cfg if cfg is None else cfg}
        target = None
        if condition.tokens is None:
            known = nearest_known_text(condition.prompt, condition.text)
            if known.substitutions:
                condition = Condition(prompt=condition.prompt, caption=known.text)
                warnings.extend(known.warnings)
                info["nearest_categories"] = [{"typed": noun, "category": g.name, "cosine": round(g.score, 3)}
                                              for noun, g in known.substitutions]
            target = known.category
        count = max(1, self.default_candidates if candidates is None else int(candidates)) if target else 1
        latents = self.sample_latents(condition, seed, steps, cfg, count)
        grids = self.decode(latents)
        empty = [float(grid.occupancy.max()) <= 0.5 for grid in grids]
        for grid, is_empty in zip(grids, empty):
            if is_empty:  # rescaled so that its densest region becomes the mesh
                grid.occupancy = grid.occupancy / max(float(grid.occupancy.max()), 1e-6) * 0.75
        meshes = [grid.to_asset(level=0.5) for grid in grids]
        chosen = 0
        if count > 1:
            from text3d.generators.best_of import select_by_category

            selection = select_by_category(meshes, target, self.point_encoder())
            chosen = selection.index
            info["candidates"] = {"count": count, "chosen_seed": seed + chosen, "category": target,
                                  "probabilities": [round(p, 4) for p in selection.probabilities]}
        grid, asset = grids[chosen], meshes[chosen]
        if empty[chosen]:
            warnings.append("the sampled grid is empty at level 0.5; using its densest region")
        v, f, n, source = crease_normals(asset.vertices, asset.faces, crease_degrees=70.0)
        asset.vertices, asset.faces, asset.vertex_normals = v, f, n
        asset.vertex_colors = asset.vertex_colors[source]
        asset.roughness = 0.6
        info["occupied_voxels"] = int((grid.occupancy > 0.5).sum())
        return GeneratorOutput(asset=asset.normalized(), info=info, warnings=warnings)
