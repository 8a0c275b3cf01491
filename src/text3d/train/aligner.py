"""``text3d train aligner``'s training core: GAP3D's (Gkotsi et al., 2026) alignment DiT and soft tokens.

The targets are the frozen embedded image encoder's final-norm tokens of each pair's image
(:class:`AlignerData`), split into the three groups the DiT generates: CLS = tokens[:, :1],
registers = tokens[:, 1:1+R], patches = tokens[:, 1+R:]. The condition C is the frozen
all-MiniLM-L6-v2's hidden states at s soft tokens appended to a caption
(:class:`~text3d.nn.soft_prompt.SoftPromptEncoder`); a caption is drawn at random among the
pair's captions at every step (GAP3D App. A.1.2). AdamW trains the soft tokens and the DiT on the
grouped rectified-flow loss (:func:`~text3d.nn.aligner_flow.aligner_flow_loss`, §4.2) under a
cosine schedule with linear warm-up; the frozen encoders keep their weights.

Random streams, all from ``config.seed``: torch's global RNG initializes the DiT and the soft
tokens (seed), a numpy generator draws the batch and the captions (seed + 1), a torch generator
draws the flow noise, t and the condition dropout (seed + 2). A checkpoint holds the last two and
the optimizer, so a resumed run gives the weights of an uninterrupted one, bit for bit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch

from text3d.align.sampling import (  # noqa: F401 (load_aligner, sample_tokens: re-exported for the trainer's users)
    SAMPLING,
    SOFT_TOKENS_FILE,
    caption_condition,
    load_aligner,
    load_soft,
    sample_tokens,
)
from text3d.device import resolve_device
from text3d.encoders.minilm import MiniLMTextEncoder, shared_text_encoder
from text3d.errors import InputError
from text3d.nn.aligner import GROUPS, AlignerConfig, AlignerDiT
from text3d.nn.aligner_flow import aligner_flow_loss
from text3d.nn.checkpoint import load_folder, save_folder
from text3d.nn.soft_prompt import SoftPromptEncoder
from text3d.progress import track
from text3d.train.config import ALIGNER_STAGES, AlignerTrainConfig, stage_key
from text3d.train.loop import Checkpoint, LossLog, cosine_lr, cpu_seconds, set_lr

log = logging.getLogger(__name__)

CLIP_NORM = 1.0
"""Global gradient-norm clip over every trained parameter."""


@dataclass(frozen=True)
class AlignerData:
    """Training pairs: image-encoder tokens (N, 1 + R + G², D) float32, the captions of each pair, and
    the layout of the token sequence (``registers``, ``grid``)."""

    tokens: torch.Tensor
    captions: tuple[tuple[str, ...], ...]
    registers: int
    grid: int

    def groups(self) -> dict[str, torch.Tensor]:
        """{cls (N, 1, D), registers (N, R, D), patches (N, G², D)}: views of ``tokens``."""
        r = 1 + self.registers
        return {"cls": self.tokens[:, :1], "registers": self.tokens[:, 1:r], "patches": self.tokens[:, r:]}


def check_architecture(config: AlignerTrainConfig) -> None:
    """Refuse (one line) a DiT shape the blocks cannot build: width must split into heads whose
    size is divisible by 4 (2D RoPE rotates channel pairs, half for rows, half for columns)."""
    if config.width % config.heads or (config.width // config.heads) % 4:
        raise InputError(f"--width {config.width} / --heads {config.heads}: the head size width / heads must be "
                         "a whole number divisible by 4")


def build_models(config: AlignerTrainConfig, registers: int, grid: int, token_dim: int,
                 text_encoder: MiniLMTextEncoder) -> tuple[AlignerDiT, SoftPromptEncoder]:
    """A fresh DiT for the token layout and soft tokens on the frozen MiniLM, initialized from
    torch's global RNG (seed it first)."""
    check_architecture(config)
    hidden = text_encoder.model.config.hidden_size
    dit = AlignerDiT(AlignerConfig(grid=grid, registers=registers, token_dim=token_dim, width=config.width,
                                   depth=config.depth, heads=config.heads, cond_dim=hidden))
    return dit, SoftPromptEncoder(text_encoder.model, config.soft_tokens)


def trainable_parameters(dit: AlignerDiT, encoder: SoftPromptEncoder, freeze_soft: bool = False,
                         ) -> list[dict[str, Any]]:
    """AdamW groups: the DiT's weight matrices with decay; its biases, norms, role/position and null
    embeddings and (unless ``freeze_soft``) the soft tokens without (they are inputs, not maps)."""
    decay = [p for p in dit.parameters() if p.ndim == 2]
    rest = [p for p in dit.parameters() if p.ndim != 2]
    return [{"params": decay, "decay": True},
            {"params": rest if freeze_soft else [*rest, encoder.soft], "decay": False}]


class ConditionCache:
    """C (s, hidden) of every caption of every pair, computed once through the frozen MiniLM with
    fixed soft tokens: with the soft tokens frozen, C depends on the caption alone, so a step
    needs no text-encoder pass (its forward and backward were ~60 % of a step's time at batch 16).

    ``rows`` (T, s, hidden) float32 hold the captions in order; pair i's captions are rows
    ``first[i]`` … ``first[i] + len(captions[i]) − 1``."""

    def __init__(self, encoder: SoftPromptEncoder, captions: tuple[tuple[str, ...], ...],
                 batch: int = 64, progress: bool | None = None) -> None:
        flat = [c for pair in captions for c in pair]
        counts = np.array([len(pair) for pair in captions])
        self.first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        with torch.no_grad():
            self.rows = torch.cat([caption_condition(encoder, flat[i:i + batch])[0].float()
                                   for i in track(range(0, len(flat), batch), description="caption conditions",
                                                  enabled=progress)])

    def __call__(self, index: np.ndarray, choice: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """(C (B, s, hidden), all-True mask (B, s)) of caption ``choice[b]`` of pair ``index[b]``."""
        rows = self.rows[torch.from_numpy(self.first[index] + choice)]
        return rows, torch.ones(rows.shape[:2], dtype=torch.bool)


def load_initial(folder: Path, dit: AlignerDiT, encoder: SoftPromptEncoder) -> None:
    """Copy the DiT and soft tokens of a saved aligner (a stage-1 result) into ``dit`` and ``encoder``;
    refuse one whose shapes differ."""
    state, saved = load_folder(folder)
    soft = load_soft(folder)
    if AlignerConfig(**saved["model"]) != dit.config or soft.shape != encoder.soft.shape:
        raise InputError(f"--init {folder}: its DiT {saved['model']} with {soft.shape[0]} soft tokens differs from "
                         f"this run's {dit.config.to_dict()} with {encoder.soft_tokens}; give the same "
                         "--width, --depth, --heads and --soft-tokens")
    dit.load_state_dict(state)
    with torch.no_grad():
        encoder.soft.copy_(soft)

def train_aligner_model(data: AlignerData, config: AlignerTrainConfig, log_file: IO[str],
                        init: Path | None = None, progress: bool | None = None, checkpoint: Path | None = None,
                        log_every: int = 25) -> tuple[AlignerDiT, SoftPromptEncoder, float]:
    """Train the DiT and the soft tokens on ``data``; returns both in eval mode and the training's
    CPU-seconds over every attempt (a resumed run adds those of the attempts up to its checkpoint).

    ``init``: a saved aligner to start from (stage 2 from stage 1). With ``checkpoint``, the
    trained weights, optimizer and random states are saved there atomically every
    ``config.checkpoint_every`` steps, and a run with the same settings resumes from it (the file
    is removed when training ends)."""
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed + 1)
    generator = torch.Generator(device=device).manual_seed(config.seed + 2)
    text_encoder = shared_text_encoder(config.device)
    dit, encoder = build_models(config, data.registers, data.grid, data.tokens.shape[-1], text_encoder)
    if init is not None:
        load_initial(init, dit, encoder)
        log.info("starting from the aligner in %s", init)
    dit, encoder = dit.to(device).train(), encoder.to(device).train()
    groups = trainable_parameters(dit, encoder, config.freeze_soft)
    cache = ConditionCache(encoder, data.captions, progress=progress) if config.freeze_soft else None
    optimizer = torch.optim.AdamW([{"params": g["params"], "weight_decay": config.weight_decay if g["decay"] else 0.0}
                                   for g in groups], lr=config.lr, betas=(0.9, 0.99))
    params = [p for g in groups for p in g["params"]]
    weights = {"patches": config.patch_weight, "cls": config.cls_weight, "registers": config.register_weight}
    targets = data.groups()
    resumable = Checkpoint(checkpoint, stage_key(config, ALIGNER_STAGES), config.checkpoint_every, config.steps,
                           "aligner", cpu_start=cpu_seconds())
    named = trained_tensors(dit, encoder, config.freeze_soft)
    ema = {name: p.detach().clone() for name, p in named.items()} if config.ema > 0 else None
    first_step, saved = resumable.restore(dit, optimizer, rng)
    if saved is not None:
        with torch.no_grad():
            encoder.soft.copy_(saved["soft"])
        generator.set_state(saved["generator"])
        ema = saved.get("ema", ema)
    losses = LossLog(log_file, f"aligner-stage{config.stage}", config.steps, every=log_every,
                     start=resumable.log_start)
    for step in track(range(first_step, config.steps), description=f"aligner stage {config.stage}",
                      enabled=progress, total=config.steps - first_step):
        set_lr(optimizer, cosine_lr(step, config.steps, config.warmup, config.lr))
        index = rng.integers(len(data.captions), size=config.batch)
        choice = np.array([int(rng.integers(len(data.captions[i]))) for i in index])
        rows = torch.from_numpy(index)
        x1 = {k: targets[k][rows].to(device) for k in GROUPS}
        if cache is None:
            cond, mask = caption_condition(encoder, [data.captions[i][c] for i, c in zip(index, choice)])
        else:
            cond, mask = (x.to(device) for x in cache(index, choice))
        loss, parts = aligner_flow_loss(dit, x1, cond, weights, config.drop_prob, generator, cond_mask=mask)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, CLIP_NORM)
        optimizer.step()
        if ema is not None:
            with torch.no_grad():
                for name, p in named.items():
                    ema[name].mul_(config.ema).add_(p.detach(), alpha=1.0 - config.ema)
        if losses.due(step):
            losses.write(step, loss=round(loss.item(), 5), **{k: round(v.item(), 5) for k, v in parts.items()},
                         lr=round(optimizer.param_groups[0]["lr"], 7))
        resumable.save_after(step + 1, lambda: {"model": dit.state_dict(), "soft": encoder.soft.detach().clone(),
                                                "optimizer": optimizer.state_dict(), "rng": rng.bit_generator.state,
                                                "generator": generator.get_state(), "ema": ema})
    resumable.remove()
    if ema is not None:  # the average, not the last step, is what the folder gets
        with torch.no_grad():
            for name, p in named.items():
                p.copy_(ema[name])
    return dit.eval(), encoder.eval(), resumable.cpu_seconds()


def trained_tensors(dit: AlignerDiT, encoder: SoftPromptEncoder, freeze_soft: bool) -> dict[str, torch.Tensor]:
    """The tensors training changes, by name: the DiT's parameters and (unless frozen) the soft tokens."""
    named = {f"dit.{name}": p for name, p in dit.named_parameters() if p.requires_grad}
    if not freeze_soft:
        named["soft"] = encoder.soft
    return named


def save_aligner(folder: Path, dit: AlignerDiT, encoder: SoftPromptEncoder, config: dict[str, Any],
                 card: str) -> Path:
    """One folder: ``soft_tokens.safetensors`` (just the soft tokens), then the DiT's
    ``model.safetensors`` + ``config.json`` (``{"model", "soft_tokens", …, **config}``) + card,
    float32."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{SOFT_TOKENS_FILE}.tmp"
    save_file({"soft": encoder.soft.detach().contiguous().cpu()}, str(tmp), metadata={"format": "pt"})
    tmp.replace(folder / SOFT_TOKENS_FILE)
    full = {"model": dit.config.to_dict(), "soft_tokens": encoder.soft_tokens,
            "text_encoder": "all-MiniLM-L6-v2 (frozen)", "sampling": dict(SAMPLING), **config}
    return save_folder(folder, dit.state_dict(), full, card)
