"""Soft-prompt condition encoder: trainable tokens read out of a frozen text encoder.

GAP3D (Gkotsi et al., 2026), §4.1.1: s trainable soft tokens are appended to the prompt's input
embeddings, the frozen language model runs over the whole sequence, and the hidden states at the
soft tokens' positions are the condition C (s × D) of the alignment DiT. Only the soft tokens
train; the encoder keeps its weights (and so its other uses).

Here the frozen encoder is text3d's own BERT forward (:class:`text3d.nn.bert.BertModel`, e.g.
all-MiniLM-L6-v2 from :func:`text3d.nn.bert.load_bert`). BERT has absolute positions and a
bidirectional mask, so the soft tokens go right after each prompt's last real token ([SEP]),
before its padding: row b of width L becomes [prompt_b (n_b), soft (s), padding (L − n_b)], so
C of a prompt does not depend on how long the other prompts of its batch are.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from text3d.nn.bert import BertModel


class SoftSplice(NamedTuple):
    """A batch of prompts with s soft tokens inserted after each row's last real token.

    Row b of width L becomes [prompt_b (n_b), soft (s), padding (L − n_b)]; ``source`` gives,
    for every prompt or padding slot, the index of the input token it copies.
    """

    embeds: torch.Tensor  # (B, L + s, D)
    mask: torch.Tensor  # (B, L + s) long: 1 on the n_b + s real slots
    is_prompt: torch.Tensor  # (B, L + s) bool: the slot holds a prompt token (not soft, not padding)
    source: torch.Tensor  # (B, L + s) long: input position a prompt or padding slot copies
    read: torch.Tensor  # (B, s) long: the soft tokens' slots

    def read_out(self, states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(states at the soft slots (B, s, D) float32, all-True mask (B, s)) from states (B, L + s, D)."""
        cond = states.gather(1, self.read[..., None].expand(-1, -1, states.shape[-1])).float()
        return cond, torch.ones(self.read.shape, dtype=torch.bool, device=states.device)


def splice_soft_tokens(words: torch.Tensor, soft: torch.Tensor, attention_mask: torch.Tensor | None,
                       owner: str) -> SoftSplice:
    """Insert ``soft`` (s, D) after the real tokens of every row of ``words`` (B, L, D).

    ``attention_mask`` (B, L) must be right padding (each row's ones first; None: no padding),
    else ``ValueError`` naming ``owner``. Padding shifts right by s, so a prompt's states do not
    depend on how long the other prompts of its batch are.
    """
    b, length, _ = words.shape
    s = soft.shape[0]
    device = words.device
    if attention_mask is None:
        attention_mask = torch.ones(b, length, dtype=torch.long, device=device)
    mask = attention_mask.bool()
    lengths = mask.sum(dim=1)  # (B,) real tokens per row
    positions = torch.arange(length, device=device)
    if not torch.equal(mask, positions[None] < lengths[:, None]):
        raise ValueError(f"{owner} needs right-padded prompts (real tokens first in every row)")
    soft = soft.to(words.dtype)
    slots = torch.arange(length + s, device=device)[None].expand(b, -1)  # (B, L + s)
    offset = slots - lengths[:, None]  # slot index relative to the end of the prompt
    is_soft = (offset >= 0) & (offset < s)
    source = torch.where(offset < 0, slots, (slots - s).clamp(0, max(length - 1, 0)))
    gathered = words.gather(1, source[..., None].expand(-1, -1, words.shape[-1]))  # (B, L + s, D)
    embeds = torch.where(is_soft[..., None], soft[offset.clamp(0, s - 1)], gathered)
    full_mask = (slots < (lengths + s)[:, None]).long()
    read = lengths[:, None] + torch.arange(s, device=device)[None]
    return SoftSplice(embeds, full_mask, offset < 0, source, read)


class FrozenSoftPrompt(nn.Module):
    """Base of the soft-prompt encoders: trainable ``soft`` (s, hidden), initialized N(0, init_std²),
    read out of a frozen backbone kept under the attribute named ``backbone_attr``.

    The backbone is frozen (``requires_grad`` off, eval mode, also after ``train()``), so
    gradients flow through it to the soft tokens only.
    """

    backbone_attr = "backbone"

    def __init__(self, backbone: nn.Module, soft_tokens: int, hidden: int, init_std: float) -> None:
        super().__init__()
        if soft_tokens < 1:
            raise ValueError(f"soft_tokens must be at least 1, got {soft_tokens}")
        setattr(self, self.backbone_attr, backbone.eval().requires_grad_(False))
        self.soft = nn.Parameter(torch.randn(soft_tokens, hidden) * init_std)

    @property
    def soft_tokens(self) -> int:
        return self.soft.shape[0]

    @property
    def hidden_size(self) -> int:
        return self.soft.shape[1]

    def train(self, mode: bool = True) -> "FrozenSoftPrompt":
        """Train mode for the soft tokens only; the frozen backbone stays in eval mode."""
        super().train(mode)
        getattr(self, self.backbone_attr).eval()
        return self


class SoftPromptEncoder(FrozenSoftPrompt):
    """(input_ids (B, L), attention_mask (B, L)) → (C (B, s, hidden), mask (B, s)) through a frozen BERT."""

    backbone_attr = "bert"
    bert: BertModel

    def __init__(self, bert: BertModel, soft_tokens: int = 32, init_std: float = 0.02) -> None:
        super().__init__(bert, soft_tokens, bert.config.hidden_size, init_std)

    def forward(self, input_ids: torch.Tensor,
                attention_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Hidden states at the soft tokens' positions and an all-True mask (B, s).

        ``attention_mask`` must be right padding (each row's ones first); None means no padding.
        """
        words = self.bert.get_input_embeddings()(input_ids)  # (B, L, D)
        splice = splice_soft_tokens(words, self.soft, attention_mask, "SoftPromptEncoder")
        states = self.bert(inputs_embeds=splice.embeds, attention_mask=splice.mask)  # (B, L + s, D)
        return splice.read_out(states)
