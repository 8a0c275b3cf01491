"""Stable Diffusion and MVDream teachers through diffusers (real loading code, any local pipeline folder).

A folder in diffusers' pipeline layout: ``unet/`` (``UNet2DConditionModel``), ``scheduler/`` (its
DDPM noise schedule: ``num_train_timesteps``, betas, ``prediction_type``), optionally ``vae/``
(``AutoencoderKL``: the teacher works on latents, as SD does) and ``text_encoder/`` + ``tokenizer/``
(transformers' CLIP text model; a ``text_encoder`` callable may be passed instead).

* ``stable-diffusion``: each view is denoised on its own (SD knows no cameras; TriplaneTurbo
  (Ma et al., 2025) uses it beside the multi-view teachers).
* ``mvdream``: MVDream (Shi et al., 2024): the self-attention of every block spans the tokens of
  all V views of an object (a processor regroups (B·V, N, C) into (B, V·N, C)), and each view's
  camera (flattened 4×4 camera-to-world matrix) is embedded and added to the timestep embedding,
  which is diffusers' ``class_embed_type="projection"`` with 16 inputs. MVDream's own checkpoints
  use their own camera normalization: a converted checkpoint must be given cameras in it.

Noise level t ∈ [0, 1] ↦ timestep k = ⌊t·(T − 1)⌉; x_t = √ᾱ_k·x₀ + √(1 − ᾱ_k)·ε; the UNet's ε (or v)
prediction is turned into x̂₀ = (x_t − √(1 − ᾱ)·ε̂)/√ᾱ (v: x̂₀ = √ᾱ·x_t − √(1 − ᾱ)·v̂).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from text3d.errors import InputError, ModelNotAvailableError
from text3d.nn.teachers.base import TextEncoder, guide, teachers

LAYOUT = "a diffusers pipeline folder: unet/, scheduler/, optional vae/, text_encoder/ + tokenizer/"


class MultiViewSelfAttention:
    """Attention processor of MVDream's 3D self-attention: (B·V, N, C) → (B, V·N, C) around the
    standard scaled-dot-product attention of diffusers' ``Attention`` module, then back."""

    def __init__(self, views: int) -> None:
        from diffusers.models.attention_processor import AttnProcessor2_0

        self.views = views
        self.inner = AttnProcessor2_0()

    def __call__(self, attn, hidden_states: torch.Tensor, encoder_hidden_states=None, attention_mask=None,
                 temb=None, *args, **kwargs) -> torch.Tensor:
        if encoder_hidden_states is not None or hidden_states.dim() != 3:
            return self.inner(attn, hidden_states, encoder_hidden_states, attention_mask, temb)
        bv, n, c = hidden_states.shape
        grouped = hidden_states.reshape(bv // self.views, self.views * n, c)
        out = self.inner(attn, grouped, None, attention_mask, temb)
        return out.reshape(bv, n, c)


def _transformers_text_encoder(folder: Path, device: str) -> TextEncoder:
    """The pipeline's own CLIP text encoder: prompts → (last hidden states, mask)."""
    try:
        from transformers import AutoTokenizer, CLIPTextModel
    except ImportError:
        raise ModelNotAvailableError(f"teacher text encoder in {folder}: transformers is not installed "
                                     "(pip install transformers), or pass a text_encoder") from None
    tokenizer = AutoTokenizer.from_pretrained(folder / "tokenizer", local_files_only=True)
    model = CLIPTextModel.from_pretrained(folder / "text_encoder", local_files_only=True).to(device).eval()

    def encode(prompts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        batch = tokenizer(list(prompts), padding="max_length", truncation=True,
                          max_length=tokenizer.model_max_length, return_tensors="pt")
        with torch.no_grad():
            states = model(batch["input_ids"].to(device)).last_hidden_state
        return states, torch.ones(states.shape[:2], dtype=torch.bool)  # SD attends to every position

    return encode


class DiffusersTeacher:
    """A ``UNet2DConditionModel`` teacher (see the module docstring); ``views`` > 1 with
    ``multiview`` is MVDream's joint denoising."""

    def __init__(self, name: str, unet, scheduler, text_encoder: TextEncoder, vae=None, views: int = 4,
                 multiview: bool = False, device: str = "cpu") -> None:
        self.name, self.unet, self.vae, self.device = name, unet.to(device).eval().requires_grad_(False), vae, device
        self.text_encoder = text_encoder
        self.views, self.multiview = views, multiview
        self.channels = 3 if vae is not None else int(unet.config.in_channels)
        self.steps = int(scheduler.config.num_train_timesteps)
        self.prediction = str(scheduler.config.prediction_type)
        self.alphas_cumprod = scheduler.alphas_cumprod.float().to(device)
        if self.prediction not in ("epsilon", "v_prediction", "sample"):
            raise InputError(f"teacher {name}: unknown prediction_type {self.prediction!r}")
        if multiview:
            self.unet.set_attn_processor({key: MultiViewSelfAttention(views) if key.endswith("attn1.processor")
                                          else proc for key, proc in self.unet.attn_processors.items()})
        if vae is not None:
            self.vae = vae.to(device).eval().requires_grad_(False)

    @classmethod
    def from_pretrained(cls, name: str, path: str | Path | None, device: str = "cpu",
                        text_encoder: TextEncoder | None = None, multiview: bool = False,
                        views: int = 4) -> "DiffusersTeacher":
        """Load ``unet/``, ``scheduler/`` (and ``vae/``, the text encoder) from a local folder."""
        folder = Path(path) if path else None
        if folder is None or not (folder / "unet" / "config.json").exists():
            raise ModelNotAvailableError(f"teacher {name}: no unet/config.json in {folder or '(no path given)'} "
                                         f"({LAYOUT}); nothing is downloaded")
        try:
            from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
        except ImportError:
            raise ModelNotAvailableError(f"teacher {name}: diffusers is not installed "
                                         "(pip install diffusers)") from None
        unet = UNet2DConditionModel.from_pretrained(folder / "unet", local_files_only=True)
        if multiview and (unet.config.class_embed_type != "projection"
                          or unet.config.projection_class_embeddings_input_dim != 16):
            raise InputError(f"teacher {name}: {folder / 'unet'} has no camera embedding "
                             "(MVDream needs class_embed_type 'projection' with 16 inputs)")
        scheduler = DDPMScheduler.from_pretrained(folder / "scheduler", local_files_only=True)
        vae = AutoencoderKL.from_pretrained(folder / "vae", local_files_only=True) \
            if (folder / "vae" / "config.json").exists() else None
        if text_encoder is None:
            text_encoder = _transformers_text_encoder(folder, device)
        return cls(name, unet, scheduler, text_encoder, vae, views if multiview else 1, multiview, device)

    def _alphas(self, t: torch.Tensor, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(timesteps (B,), ᾱ (B,)) of noise levels t."""
        t = t.float().to(self.device).expand(batch) if t.dim() == 0 else t.float().to(self.device)
        k = (t.clamp(0, 1) * (self.steps - 1)).round().long()
        return k, self.alphas_cumprod[k]

    def encode(self, views: torch.Tensor) -> torch.Tensor:
        """RGB views (B, V, 3, H, W) in [−1, 1] → VAE latents (mean × scaling factor), or the views
        themselves for a pixel-space UNet."""
        if views.shape[2] != self.channels and self.vae is None:
            raise InputError(f"views with {views.shape[2]} channels: teacher {self.name} takes {self.channels}")
        if self.vae is None:
            return views
        b, v = views.shape[:2]
        latents = self.vae.encode(views[:, :, :3].reshape(b * v, 3, *views.shape[-2:])).latent_dist.mean
        return (latents * self.vae.config.scaling_factor).reshape(b, v, *latents.shape[1:])

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x_t = √ᾱ·x₀ + √(1 − ᾱ)·ε."""
        _, a = self._alphas(t, x0.shape[0])
        a = a.view(-1, *[1] * (x0.dim() - 1))
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    def denoise(self, x_t: torch.Tensor, t: torch.Tensor, prompts: Sequence[str], cameras: torch.Tensor,
                guidance: float = 1.0, guidance_rescale: float = 0.0) -> torch.Tensor:
        """Guided x̂₀ of ``x_t`` (B, V, C, h, w); the unconditional branch reads the empty prompt."""
        b, v = x_t.shape[:2]
        if len(prompts) != b or cameras.shape[:2] != (b, v):
            raise InputError(f"teacher {self.name}: {len(prompts)} prompts and cameras {tuple(cameras.shape)} "
                             f"for views {tuple(x_t.shape)}")
        if self.multiview and v != self.views:
            raise InputError(f"teacher {self.name}: {v} views, the model denoises {self.views} jointly")
        k, a = self._alphas(t, b)
        guided = guidance != 1.0
        texts = list(prompts) + ([""] * b if guided else [])
        states, _ = self.text_encoder(texts)
        copies = 2 if guided else 1
        x = x_t.reshape(b * v, *x_t.shape[2:]).repeat(copies, 1, 1, 1)
        ctx = states.to(self.device).repeat_interleave(v, dim=0)
        steps = k.repeat_interleave(v).repeat(copies)
        labels = cameras.reshape(b * v, 16).float().to(self.device).repeat(copies, 1) if self.multiview else None
        out = self.unet(x, steps, encoder_hidden_states=ctx, class_labels=labels).sample
        a_v = a.repeat_interleave(v).repeat(copies).view(-1, 1, 1, 1)
        if self.prediction == "epsilon":
            x0 = (x - (1 - a_v).sqrt() * out) / a_v.sqrt()
        elif self.prediction == "v_prediction":
            x0 = a_v.sqrt() * x - (1 - a_v).sqrt() * out
        else:
            x0 = out
        x0 = x0.reshape(copies, b, v, *x0.shape[1:])
        return guide(x0[0], x0[1], guidance, guidance_rescale) if guided else x0[0]


@teachers.register("stable-diffusion")
def load_stable_diffusion(path: str | Path | None = None, device: str = "cpu",
                          text_encoder: TextEncoder | None = None) -> DiffusersTeacher:
    """Stable Diffusion from a local pipeline folder: each view denoised on its own."""
    return DiffusersTeacher.from_pretrained("stable-diffusion", path, device, text_encoder)


@teachers.register("mvdream")
def load_mvdream(path: str | Path | None = None, device: str = "cpu",
                 text_encoder: TextEncoder | None = None) -> DiffusersTeacher:
    """MVDream from a local pipeline folder: 4 views denoised jointly, camera-conditioned."""
    return DiffusersTeacher.from_pretrained("mvdream", path, device, text_encoder, multiview=True, views=4)
