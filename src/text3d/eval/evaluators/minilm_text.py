"""The MiniLM side shared by the embedded evaluators: input token embeddings and pieces of a prompt."""

from __future__ import annotations

import functools

from text3d.encoders.minilm import MiniLMTextEncoder, bundled_model_path


@functools.lru_cache(maxsize=1)
def minilm_tokenizer():
    """The bundled all-MiniLM-L6-v2 ``tokenizer.json`` (a ``tokenizers.Tokenizer``; no torch)."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(bundled_model_path() / "tokenizer.json"))


def minilm_embed(encoder: MiniLMTextEncoder, prompt: str) -> tuple:
    """(word embeddings (1, L, 384), attention mask (1, L), WordPiece pieces (L,)) of ``prompt``,
    [CLS] and [SEP] included; the embeddings are the input of
    :meth:`MiniLMTextEncoder.forward_embeddings`."""
    batch = encoder.tokenize([prompt])
    ids = batch["input_ids"]
    vocabulary = minilm_tokenizer()
    pieces = [vocabulary.id_to_token(int(i)) or "[UNK]" for i in ids[0].tolist()]
    return encoder.embed_tokens(ids).detach(), batch["attention_mask"], pieces
