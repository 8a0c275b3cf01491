"""Atomic file writes: write to a temporary file in the same folder, fsync, then rename.

A reader (or a resumed run) therefore sees either the old file or the complete new one,
never a torn write.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import yaml

from text3d.errors import InputError

log = logging.getLogger(__name__)

_UMASK = os.umask(0)
os.umask(_UMASK)


def usual_permissions(path: str | Path) -> None:
    """Give a file written through a private temporary the permissions a plain ``open`` would:
    0666 less the umask (readable by others, as model folders are meant to be)."""
    os.chmod(path, 0o666 & ~_UMASK)


def write_atomic(path: str | Path, writer: Callable[[BinaryIO], None]) -> Path:
    """Call ``writer(file)`` on a temporary file next to ``path`` and rename it into place.

    An OS error of the write itself (disk full, a folder in the way, no permission) names
    ``path``, not the temporary file the user never asked for."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        usual_permissions(tmp)  # mkstemp creates 0600
        with os.fdopen(fd, "wb") as handle:
            writer(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as error:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError) and error.filename in (None, tmp, str(target.parent)):
            raise type(error)(error.errno, error.strerror, str(target)) from error
        raise
    return target


def remove_stale_temporaries(folder: str | Path) -> int:
    """Delete temporary files a killed writer left under ``folder``; returns how many.

    Only call this for folders no other process is writing (e.g. an item about to be redone).
    """
    root = Path(folder)
    if not root.exists():
        return 0
    stale = [p for p in root.rglob(".*.tmp") if p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Atomically write ``data`` to ``path``."""
    return write_atomic(path, lambda f: f.write(data))


def write_text(path: str | Path, text: str) -> Path:
    """Atomically write UTF-8 ``text`` to ``path``."""
    return write_bytes(path, text.encode("utf-8"))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps_json(data: Any, indent: int | None = 2) -> str:
    """Deterministic JSON (sorted keys, numpy-aware) for byte-identical outputs."""
    return json.dumps(data, indent=indent, sort_keys=True, default=_json_default, ensure_ascii=False)


def write_json(path: str | Path, data: Any) -> Path:
    """Atomically write ``data`` as deterministic, indented JSON."""
    return write_text(path, dumps_json(data) + "\n")


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Atomically write a uint8 (H, W[, C]) or uint16 (H, W) array as PNG."""
    from PIL import Image

    array = np.ascontiguousarray(image)
    if array.dtype == np.uint16:
        pil = Image.fromarray(array)
    else:
        pil = Image.fromarray(array.astype(np.uint8))
    return write_atomic(path, lambda f: pil.save(f, format="PNG", optimize=False, compress_level=6))


def read_mapping(path: str | Path, kind: str = "json") -> dict[str, Any]:
    """The object of a JSON (``kind`` "json") or YAML ("yaml") file a user may have edited or
    damaged; an empty YAML file is {}. Not UTF-8, not parseable, or not an object: a one-line
    :class:`InputError` naming the file."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    try:
        data = json.loads(text) if kind == "json" else (yaml.safe_load(text) or {})
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: holds a {type(data).__name__}, not a mapping")
    return data


def append_lines(path: str | Path, text: str) -> None:
    """Append ``text`` (whole lines, each ending in a newline) durably (flush + fsync). A torn last line
    left by a process killed mid-append is ended with a newline first, so the new lines are not glued
    to it and lost with it when read back (:func:`read_json_lines` skips the torn line alone)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as handle:
        handle.seek(0, os.SEEK_END)
        if handle.tell() > 0:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                handle.write(b"\n")
        handle.write(text.encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())


def read_json_lines(path: str | Path) -> Iterator[dict[str, Any]]:
    """The JSON objects of a JSON-lines file written by appends; blank lines, a torn last line
    (a process killed mid-append) and malformed lines (not JSON, not UTF-8) are skipped with a
    warning. A missing file yields nothing."""
    path = Path(path)
    if not path.exists():
        return
    with path.open("rb") as handle:  # bytes: a line that is not UTF-8 is malformed, not a crash
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                log.warning("%s:%d: skipping a torn or malformed line", path, number)
                continue
            if isinstance(row, dict):
                yield row
