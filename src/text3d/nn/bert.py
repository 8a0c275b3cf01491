"""BERT's encoder (Devlin et al. 2019, "BERT: Pre-training of Deep Bidirectional Transformers")
as plain torch modules, for inference over released weights.

Parameter names follow the released checkpoints (``embeddings.word_embeddings.weight``,
``encoder.layer.{i}.attention.self.query.weight``, …) so a ``model.safetensors`` loads as is.
The operations are those of the common post-LayerNorm formulation, in the order the reference
implementation (transformers' ``BertModel`` with SDPA attention) runs them, so the hidden
states agree with it to float32 rounding:

    h₀ = LN(E_word[x] + E_type[0] + E_pos[t])
    a  = LN(h + W_o · softmax(Q Kᵀ / √d_head + mask) V)
    h' = LN(a + W_2 · GELU(W_1 a))          (GELU with erf, the exact form)

Only what an encoder needs: no pooler, no token types other than 0, no dropout (eval only).
Building it costs little: layers skip their random initialization (the checkpoint's tensors
are assigned in their place, :func:`load_bert`); the meta device is not used because its
random fills import torch's compiler stack (seconds at a cold start).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn


@dataclass(frozen=True)
class BertConfig:
    """Sizes of a BERT encoder (the fields of a checkpoint's ``config.json`` that matter here)."""

    vocab_size: int = 30522
    hidden_size: int = 384
    num_hidden_layers: int = 6
    num_attention_heads: int = 12
    intermediate_size: int = 1536
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0
    hidden_act: str = "gelu"

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "BertConfig":
        """The known fields of ``values``; a hidden activation other than erf-GELU is refused."""
        known = {f.name for f in fields(cls)}
        config = cls(**{k: v for k, v in values.items() if k in known})
        if config.hidden_act != "gelu":
            raise ValueError(f"BERT hidden_act {config.hidden_act!r}: only 'gelu' (erf) is implemented")
        if values.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("BERT position_embedding_type: only 'absolute' is implemented")
        return config


class _Linear(nn.Linear):
    def reset_parameters(self) -> None:  # left uninitialized: the checkpoint supplies the values
        pass


class _Embedding(nn.Embedding):
    def reset_parameters(self) -> None:  # left uninitialized: the checkpoint supplies the values
        pass


class BertEmbeddings(nn.Module):
    """Word + token-type (0) + absolute position embeddings, then LayerNorm: (B, L) → (B, L, D)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.word_embeddings = _Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = _Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = _Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, input_ids: torch.Tensor | None = None,
                inputs_embeds: torch.Tensor | None = None) -> torch.Tensor:
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)
        length = inputs_embeds.shape[1]
        positions = torch.arange(length, device=inputs_embeds.device)[None]  # (1, L)
        embeddings = inputs_embeds + self.token_type_embeddings(torch.zeros_like(positions))
        embeddings = embeddings + self.position_embeddings(positions)
        return self.LayerNorm(embeddings)


class BertSelfAttention(nn.Module):
    """Multi-head scaled dot-product self-attention: (B, L, D) → (B, L, D) before the output projection."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.heads = config.num_attention_heads
        self.head_dim = config.hidden_size // config.num_attention_heads
        self.query = _Linear(config.hidden_size, config.hidden_size)
        self.key = _Linear(config.hidden_size, config.hidden_size)
        self.value = _Linear(config.hidden_size, config.hidden_size)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        shape = (*hidden.shape[:-1], -1, self.head_dim)  # (B, L, heads, d_head)
        q = self.query(hidden).view(shape).transpose(1, 2)
        k = self.key(hidden).view(shape).transpose(1, 2)
        v = self.value(hidden).view(shape).transpose(1, 2)
        out = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=0.0,
                                                         scale=self.head_dim ** -0.5, is_causal=False)
        return out.transpose(1, 2).contiguous().reshape(*hidden.shape[:-1], -1).contiguous()


class BertProjection(nn.Module):
    """Linear, residual add, LayerNorm: LN(W x + b + residual)."""

    def __init__(self, in_features: int, config: BertConfig) -> None:
        super().__init__()
        self.dense = _Linear(in_features, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, hidden: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(hidden) + residual)


class BertAttention(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertProjection(config.hidden_size, config)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        return self.output(self.self(hidden, mask), hidden)


class BertIntermediate(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = _Linear(config.hidden_size, config.intermediate_size)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return nn.functional.gelu(self.dense(hidden))


class BertLayer(nn.Module):
    """One post-LN transformer layer: attention block, then the GELU feed-forward block."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertProjection(config.intermediate_size, config)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        attended = self.attention(hidden, mask)
        return self.output(self.intermediate(attended), attended)


class BertEncoder(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(config) for _ in range(config.num_hidden_layers))


class BertModel(nn.Module):
    """Token ids or word embeddings (B, L[, D]) and a 0/1 mask (B, L) → last hidden states (B, L, D)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings.word_embeddings

    def forward(self, input_ids: torch.Tensor | None = None, attention_mask: torch.Tensor | None = None,
                inputs_embeds: torch.Tensor | None = None) -> torch.Tensor:
        hidden = self.embeddings(input_ids, inputs_embeds)
        mask = attention_bias(attention_mask, hidden.shape[1])
        for layer in self.encoder.layer:
            hidden = layer(hidden, mask)
        return hidden


def attention_bias(attention_mask: torch.Tensor | None, length: int) -> torch.Tensor | None:
    """The boolean SDPA mask (B, 1, L, L), True where a key may be attended; None when no key is
    padding, which lets SDPA skip the mask (the reference implementation does the same)."""
    if attention_mask is None or bool(attention_mask.all()):
        return None
    keys = attention_mask.bool()[:, None, None, :]  # (B, 1, 1, L)
    return keys.expand(attention_mask.shape[0], 1, length, length)


def load_bert(folder: str | Path, device: str | torch.device = "cpu") -> BertModel:
    """A :class:`BertModel` with the weights of ``folder`` (``config.json`` + ``model.safetensors``),
    in eval mode without gradients. Pooler weights and position-id buffers in the file are skipped;
    any other missing or unexpected name is an error."""
    from safetensors.torch import load_file

    folder = Path(folder)
    config = BertConfig.from_dict(json.loads((folder / "config.json").read_text()))
    state = load_file(str(folder / "model.safetensors"), device=str(device))
    state = {k.removeprefix("bert."): v.float() for k, v in state.items()}
    state = {k: v for k, v in state.items() if not k.startswith("pooler.") and not k.endswith("position_ids")}
    model = BertModel(config)
    model.load_state_dict(state, strict=True, assign=True)
    return model.eval().requires_grad_(False)
