"""Where each tokenizer piece of a prompt lies in the prompt's characters.

Evaluators report the pieces of their tokenizer (WordPiece ``##`` continuations, CLIP BPE
``</w>`` word ends, special tokens) with character offsets, so that attributions can be summed
per word (:mod:`text3d.bias.words`) whatever the tokenizer. Offsets come from aligning each
piece's text with the lower-cased, accent-stripped prompt, left to right.
"""

from __future__ import annotations

import unicodedata

SPECIAL_PIECES = frozenset({"[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]", "<|startoftext|>", "<|endoftext|>",
                            "<s>", "</s>", "<pad>", "<unk>"})


def _fold(text: str) -> str:
    """Lower case without accents, one character per input character (BERT's uncased normalization)."""
    out = []
    for char in text.lower():
        base = unicodedata.normalize("NFD", char)
        stripped = "".join(c for c in base if unicodedata.category(c) != "Mn")
        out.append(stripped[:1] if stripped else char)
    return "".join(out)


def piece_text(piece: str) -> str:
    """The characters a piece stands for: ``##pot`` → ``pot``, ``pot</w>`` → ``pot``; "" for specials."""
    if piece in SPECIAL_PIECES:
        return ""
    text = piece[2:] if piece.startswith("##") else piece
    text = text[:-4] if text.endswith("</w>") else text
    return _fold(text)


def piece_offsets(text: str, pieces: list[str]) -> list[tuple[int, int]]:
    """(start, end) character span of each piece in ``text``; (0, 0) for special pieces and for
    a piece that cannot be found after the previous one (e.g. ``[UNK]``)."""
    folded = _fold(text)
    cursor = 0
    spans: list[tuple[int, int]] = []
    for piece in pieces:
        wanted = piece_text(piece)
        at = folded.find(wanted, cursor) if wanted else -1
        if at < 0:
            spans.append((0, 0))
            continue
        spans.append((at, at + len(wanted)))
        cursor = at + len(wanted)
    return spans
