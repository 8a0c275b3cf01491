"""A model is one folder: ``config.json`` + ``model.safetensors`` (+ ``README.md``, the card).

This is TRELLIS's and diffusers' layout; ``from_pretrained`` of every embedded model reads
it with :func:`load_folder`. A state larger than ``max_shard_bytes`` is written the way
transformers shards checkpoints: ``model-00001-of-0000N.safetensors`` … plus
``model.safetensors.index.json`` (``{"metadata": {"total_size"}, "weight_map": {name: file}}``),
which keeps every committed file small.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from text3d.errors import InputError, ModelNotAvailableError
from text3d.store.atomic import usual_permissions, write_json, write_text

WEIGHTS_ROOT = Path(__file__).resolve().parent.parent / "weights"
"""Folder of the embedded models shipped inside the package."""

SINGLE_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"
MAX_SHARD_BYTES = 16 * 1024 * 1024


def _has_weights(folder: Path) -> bool:
    return (folder / SINGLE_FILE).exists() or (folder / INDEX_FILE).exists()


def check_model_path(name_or_path: str | None, default_name: str, option: str) -> None:
    """Refuse, naming ``option`` (exit 2: the user's input), a model the user named by a local path
    that is no folder: not a shipped model's name, not a folder. Whether the folder holds a model
    is :func:`resolve_model_folder`'s to say when it loads."""
    if name_or_path in (None, "", "embedded", default_name) or (WEIGHTS_ROOT / str(name_or_path)).is_dir():
        return
    folder = Path(str(name_or_path)).expanduser()
    if not folder.is_dir():
        problem = "is a file" if folder.exists() else "no such folder"
        raise InputError(f"{option} {name_or_path}: {problem}; pass the folder of a trained model (written by "
                         f"`text3d train ...`; the default is the shipped {default_name})")


def resolve_model_folder(name_or_path: str | Path | None, default_name: str) -> Path:
    """A shipped model's folder by name ("embedded" or its own name), or a local path."""
    shipped = name_or_path in (None, "", "embedded", default_name)
    if shipped:
        folder = WEIGHTS_ROOT / default_name
    else:
        folder = Path(name_or_path)
        if not folder.exists() and (WEIGHTS_ROOT / str(name_or_path)).exists():
            folder = WEIGHTS_ROOT / str(name_or_path)
    if not (folder / "config.json").exists() or not _has_weights(folder):
        if not shipped:  # the message names the folder the user gave, not the model it stood for
            problem = "no such folder" if not folder.exists() else "is a file" if not folder.is_dir() else \
                "no config.json + model.safetensors there"
            raise ModelNotAvailableError(f"{name_or_path}: {problem}; pass the folder of a trained model "
                                         f"(written by `text3d train ...`; the default is the shipped {default_name})")
        raise ModelNotAvailableError(
            f"{default_name}: no config.json + model.safetensors in {folder}; train one with "
            f"`text3d train ...` or pass the folder of a trained model")
    return folder


def _shards(tensors: dict, max_shard_bytes: int) -> list[dict]:
    """Consecutive groups of tensors of at most ``max_shard_bytes`` each (a larger tensor alone)."""
    shards: list[dict] = [{}]
    size = 0
    for name, tensor in tensors.items():
        nbytes = tensor.numel() * tensor.element_size()
        if shards[-1] and size + nbytes > max_shard_bytes:
            shards.append({})
            size = 0
        shards[-1][name] = tensor
        size += nbytes
    return shards


def save_folder(folder: str | Path, state_dict: dict, config: dict[str, Any], card: str | None = None,
                max_shard_bytes: int = MAX_SHARD_BYTES) -> Path:
    """Write ``config.json``, the weights (one file, or shards + index past ``max_shard_bytes``)
    and the card; tensors are stored in the dtype they come in."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous().cpu() for k, v in state_dict.items()}
    shards = _shards(tensors, max_shard_bytes)
    for stale in [*folder.glob("model-*-of-*.safetensors"), folder / SINGLE_FILE, folder / INDEX_FILE]:
        stale.unlink(missing_ok=True)
    names = [SINGLE_FILE] if len(shards) == 1 else [
        f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors" for i in range(len(shards))]
    for name, shard in zip(names, shards):
        tmp = folder / f".{name}.tmp"
        save_file(shard, str(tmp), metadata={"format": "pt"})
        usual_permissions(tmp)  # safetensors writes 0600
        tmp.replace(folder / name)
    if len(shards) > 1:
        total = sum(t.numel() * t.element_size() for t in tensors.values())
        write_json(folder / INDEX_FILE, {"metadata": {"total_size": total},
                                         "weight_map": {k: n for n, s in zip(names, shards) for k in s}})
    write_json(folder / "config.json", config)
    if card is not None:
        write_text(folder / "README.md", card)
    return folder


def load_folder(folder: Path) -> tuple[dict, dict[str, Any]]:
    """(state dict as float32 tensors, config) of a model folder, single-file or sharded; a file
    that is missing or unreadable is a one-line :class:`InputError` naming it."""
    from safetensors.torch import load_file

    folder = Path(folder)
    config = read_config(folder)
    state = {}
    try:
        files = weight_files(folder)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{folder / INDEX_FILE}: unreadable shard index ({type(exc).__name__})") from None
    for path in files:
        if not path.is_file():
            raise InputError(f"{path}: weight file missing (the model folder is incomplete)")
        try:
            state.update({k: v.float() for k, v in load_file(str(path)).items()})
        except Exception as exc:  # safetensors raises its own error type for a damaged header
            raise InputError(f"{path}: not a readable safetensors file ({str(exc).splitlines()[0][:120]})") from None
    return state, config


def read_config(folder: Path) -> dict[str, Any]:
    """A model folder's ``config.json`` as a dict; a missing or malformed file is a one-line error."""
    path = Path(folder) / "config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: not valid JSON ({str(exc).splitlines()[0][:120]})") from None
    if not isinstance(config, dict):
        raise InputError(f"{path}: not a JSON object")
    return config


def load_checked(module: Any, state: dict, folder: str | Path, what: str) -> None:
    """``module.load_state_dict(state)``, with a mismatch between the weights and the shapes the
    folder's ``config.json`` builds refused in one line (``what``: the model's name in it)."""
    try:
        module.load_state_dict(state)
    except RuntimeError as exc:
        first = next((line.strip() for line in str(exc).splitlines()[1:] if line.strip()), str(exc))
        raise InputError(f"{folder}: the {what} weights do not match config.json ({first[:160]})") from None


def build_config(config_type: Any, values: Any, folder: str | Path, key: str) -> Any:
    """``config_type(**values)`` from config.json's ``key`` entry; a wrong entry is a one-line error."""
    if not isinstance(values, dict):
        raise InputError(f"{Path(folder) / 'config.json'}: {key} must be an object, not {values!r}"[:200])
    try:
        return config_type(**values)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{Path(folder) / 'config.json'}: {key}: {exc}"[:240]) from None


def build_network(network_type: Any, config_type: Any, values: Any, folder: str | Path, key: str) -> Any:
    """``network_type(build_config(config_type, values, …))``: settings the network cannot be built
    from (a width the heads cannot split) are a one-line error naming config.json and ``key``."""
    config = build_config(config_type, values, folder, key)
    try:
        return network_type(config)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{Path(folder) / 'config.json'}: {key}: {exc}"[:240]) from None


def local_weights_sha256(name_or_path: str | Path | None, default: str) -> str | None:
    """:func:`weights_sha256` of the folder ``resolve_model_folder(name_or_path, default)`` names, so a
    run made with other weights at the same path is not resumed; None when there are none to read
    (loading the model then says why)."""
    from text3d.errors import Text3DError

    try:
        return weights_sha256(resolve_model_folder(name_or_path, default))
    except (Text3DError, OSError):
        return None


def weights_sha256(folder: str | Path) -> str:
    """First 16 hex digits of SHA-256 over a model folder's weight files, in order: what identifies
    the weights wherever the folder lies."""
    import hashlib

    digest = hashlib.sha256()
    for path in weight_files(folder):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def weight_files(folder: str | Path) -> list[Path]:
    """The safetensors files of a model folder: its shards in order, or the single file."""
    folder = Path(folder)
    if (folder / INDEX_FILE).exists():
        names = sorted(set(json.loads((folder / INDEX_FILE).read_text())["weight_map"].values()))
        return [folder / n for n in names]
    return [folder / SINGLE_FILE]
