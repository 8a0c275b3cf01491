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

import torch
from torch import nn

from text3d.nn.bert import BertModel


class SoftPromptEncoder(nn.Module):
    """(input_ids (B, L), attention_mask (B, L)) → (C (B, s, hidden), mask (B, s)).

    The wrapped BERT is frozen (``requires_grad`` off, eval mode); gradients flow through it to
    the soft tokens ``soft`` (s, hidden), initialized N(0, init_std²).
    """

    def __init__(self, bert: BertModel, soft_tokens: int = 32, init_std: float = 0.02) -> None:
        super().__init__()
        if soft_tokens < 1:
            raise ValueError(f"soft_tokens must be at least 1, got {soft_tokens}")
        self.bert = bert.eval().requires_grad_(False)
        hidden = bert.config.hidden_size
        self.soft = nn.Parameter(torch.randn(soft_tokens, hidden) * init_std)

    @property
    def soft_tokens(self) -> int:
        return self.soft.shape[0]

    @property
    def hidden_size(self) -> int:
        return self.soft.shape[1]

    def train(self, mode: bool = True) -> "SoftPromptEncoder":
        """Train mode for the soft tokens only; the frozen BERT stays in eval mode."""
        super().train(mode)
        self.bert.eval()
        return self

    def forward(self, input_ids: torch.Tensor,
                attention_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Hidden states at the soft tokens' positions and an all-True mask (B, s).

        ``attention_mask`` must be right padding (each row's ones first); None means no padding.
        """
        b, length = input_ids.shape
        s = self.soft_tokens
        device = input_ids.device
        if attention_mask is None:
            attention_mask = torch.ones(b, length, dtype=torch.long, device=device)
        mask = attention_mask.bool()
        lengths = mask.sum(dim=1)  # (B,) real tokens per row
        positions = torch.arange(length, device=device)
        if not torch.equal(mask, positions[None] < lengths[:, None]):
            raise ValueError("SoftPromptEncoder needs right-padded prompts (real tokens first in every row)")

        words = self.bert.get_input_embeddings()(input_ids)  # (B, L, D)
        soft = self.soft.to(words.dtype)
        # Source of each of the L + s slots of a row: the prompt (slot < n_b), a soft token
        # (n_b ≤ slot < n_b + s), or the row's padding, which shifts right by s.
        slots = torch.arange(length + s, device=device)[None].expand(b, -1)  # (B, L + s)
        offset = slots - lengths[:, None]  # slot index relative to the end of the prompt
        is_soft = (offset >= 0) & (offset < s)
        word_index = torch.where(offset < 0, slots, (slots - s).clamp(0, length - 1))
        gathered = words.gather(1, word_index[..., None].expand(-1, -1, words.shape[-1]))  # (B, L + s, D)
        embeds = torch.where(is_soft[..., None], soft[offset.clamp(0, s - 1)], gathered)
        full_mask = (slots < (lengths + s)[:, None]).long()  # (B, L + s)

        states = self.bert(inputs_embeds=embeds, attention_mask=full_mask)  # (B, L + s, D)
        read = lengths[:, None] + torch.arange(s, device=device)[None]  # (B, s) soft-token slots
        cond = states.gather(1, read[..., None].expand(-1, -1, states.shape[-1]))
        return cond, torch.ones(b, s, dtype=torch.bool, device=device)
