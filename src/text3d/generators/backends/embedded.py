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
                       cfg: float | None = None) -> "torch.Tensor":  # noqa: F821
        """Standardized → raw latent tokens (1, N, D) for ``condition``."""
        import torch

        from text3d.nn.flow import euler_sample

        with torch.inference_mode():
            context, mask, modality = self._context(condition)
            null, null_mask = self.dit.null_condition(1, modality, self.device)
            g = torch.Generator(device="cpu").manual_seed(int(seed))
            noise = torch.randn((1, self.dit.config.tokens, self.dit.config.token_dim), generator=g).to(self.device)
            x = euler_sample(self.dit, noise, context, mask, null, null_mask, steps=steps or self.default_steps,
                             cfg=self.default_cfg if cfg is None else cfg)
            return x * self.std + self.mean

    def decode(self, latents: "torch.Tensor"):  # noqa: F821
        """Latent tokens → :class:`~text3d.assets.voxels.VoxelGrid`."""
        import torch

        from text3d.assets.voxels import VoxelGrid

        with torch.inference_mode():
            occupancy, colors = self.vae.decode(latents)
        return VoxelGrid(occupancy[0].float().cpu().numpy(), colors[0].permute(1, 2, 3, 0).float().cpu().numpy())

    def generate(self, condition: Condition, seed: int = 0, steps: int | None = None,
                 cfg: float | None = None) -> GeneratorOutput:
        from text3d.assets.normals import crease_normals

        grid = self.decode(self.sample_latents(condition, seed, steps, cfg))
        warnings = []
        if grid.occupancy.max() <= 0.5:
            warnings.append("the sampled grid is empty at level 0.5; using its densest region")
            grid.occupancy = grid.occupancy / max(float(grid.occupancy.max()), 1e-6) * 0.75
        asset = grid.to_asset(level=0.5)
        v, f, n, source = crease_normals(asset.vertices, asset.faces, crease_degrees=70.0)
        asset.vertices, asset.faces, asset.vertex_normals = v, f, n
        asset.vertex_colors = asset.vertex_colors[source]
        asset.roughness = 0.6
        asset = asset.normalized()
        info = {"steps": steps or self.default_steps, "cfg": self.default_cfg if cfg is None else cfg,
                "occupied_voxels": int((grid.occupancy > 0.5).sum())}
        return GeneratorOutput(asset=asset, info=info, warnings=warnings)
