"""A model is one folder: ``config.json`` + ``model.safetensors`` (+ ``README.md``, the card).

This is TRELLIS's and diffusers' layout; ``from_pretrained`` of every embedded model reads
it with :func:`load_folder`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from text3d.errors import ModelNotAvailableError
from text3d.store.atomic import write_json, write_text

WEIGHTS_ROOT = Path(__file__).resolve().parent.parent / "weights"
"""Folder of the embedded models shipped inside the package."""


def resolve_model_folder(name_or_path: str | Path | None, default_name: str) -> Path:
    """A shipped model's folder by name ("embedded" or its own name), or a local path."""
    if name_or_path in (None, "", "embedded", default_name):
        folder = WEIGHTS_ROOT / default_name
    else:
        folder = Path(name_or_path)
        if not folder.exists() and (WEIGHTS_ROOT / str(name_or_path)).exists():
            folder = WEIGHTS_ROOT / str(name_or_path)
    if not (folder / "config.json").exists() or not (folder / "model.safetensors").exists():
        raise ModelNotAvailableError(
            f"{default_name}: no config.json + model.safetensors in {folder}; train one with "
            f"`text3d train ...` or pass the folder of a trained model")
    return folder


def save_folder(folder: str | Path, state_dict: dict, config: dict[str, Any], card: str | None = None) -> Path:
    """Write ``config.json`` and ``model.safetensors`` (float16 when ``half``) and the card."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous().cpu() for k, v in state_dict.items()}
    tmp = folder / ".model.safetensors.tmp"
    save_file(tensors, str(tmp), metadata={"format": "pt"})
    tmp.replace(folder / "model.safetensors")
    write_json(folder / "config.json", config)
    if card is not None:
        write_text(folder / "README.md", card)
    return folder


def load_folder(folder: Path) -> tuple[dict, dict[str, Any]]:
    """(state dict as float32 tensors, config) of a model folder."""
    from safetensors.torch import load_file

    state = {k: v.float() for k, v in load_file(str(folder / "model.safetensors")).items()}
    return state, json.loads((folder / "config.json").read_text())
