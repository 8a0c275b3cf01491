"""The text-3D pairs file of a bias augmentation run (``pairs.jsonl``): written by
:mod:`text3d.bias.visual`, read by the fine-tuning (:mod:`text3d.train.generator_finetune`) and
compared by the bias study, so its format is stated once, here."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from text3d.errors import InputError

PAIRS_FILE = "pairs.jsonl"


def read_pairs(path: str | Path) -> tuple[list[dict[str, Any]], Path]:
    """The pairs of a ``text3d bias augment`` folder or its ``pairs.jsonl``: rows with ``asset`` (a
    path, made absolute against the file's folder), ``text`` (t_n) and ``context`` (t_nc, may be
    empty); and the file read. One-line :class:`InputError` for a missing or malformed file."""
    path = Path(path)
    file = path / PAIRS_FILE if path.is_dir() else path
    if not file.is_file():
        raise InputError(f"--finetune {path}: no {PAIRS_FILE} (give a text3d bias augment folder or its pairs.jsonl)")
    rows = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            asset, text = str(row["asset"]), str(row["text"])
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"--finetune {file}: line {number} is not a pair with 'asset' and 'text' "
                             f"({exc.__class__.__name__})") from None
        asset_path = Path(asset) if Path(asset).is_absolute() else file.parent / asset
        if not asset_path.is_file():
            raise InputError(f"--finetune {file}: line {number}: asset {asset_path} does not exist")
        rows.append({"asset": str(asset_path), "text": text, "context": str(row.get("context") or "")})
    if not rows:
        raise InputError(f"--finetune {file}: no pairs (the augmentation kept no winner)")
    return rows, file


def pairs_digest(rows: list[dict[str, Any]]) -> str:
    """SHA-256 over the pairs' texts and asset bytes: what a fine-tuning learns from (a resumed run
    must read the same pairs; two augmentation runs with equal digests train the same model)."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(f"{row['text']}\t{row['context']}\n".encode())
        digest.update(Path(row["asset"]).read_bytes())
    return digest.hexdigest()
