"""Prompt files: one prompt a line (``#`` comments and blank lines skipped), or JSON lines with a
``prompt`` field. Every command that takes ``--prompts FILE`` (and ``data prompts``) reads them here,
with the prompt limits of :mod:`text3d.limits` checked line by line before any work."""

from __future__ import annotations

import json
from pathlib import Path

from text3d.errors import InputError
from text3d.limits import MAX_ITEMS, check_prompt_file_type, check_prompt_size

__all__ = ["read_prompts"]


def read_prompts(path: str | Path) -> list[str]:
    """Prompts from a text file (one per line; blank lines and ``#`` comments skipped) or a JSONL
    file of objects with a ``prompt`` field (``.jsonl`` / ``.json`` lines)."""
    source = Path(path)
    if source.is_dir():
        raise InputError(f"{source}: is a folder, not a prompts file")
    if not source.is_file():
        raise InputError(f"{source}: no such prompts file")
    check_prompt_file_type(source)
    try:
        text_lines = source.read_text(encoding="utf-8-sig").splitlines()  # -sig: an editor's byte-order mark
    except UnicodeDecodeError:
        raise InputError(f"{source}: not a UTF-8 text file of prompts") from None
    prompts = []
    jsonl = source.suffix.lower() in (".jsonl", ".json", ".ndjson")
    for number, line in enumerate(text_lines, 1):
        text = line.strip()
        if not text or (not jsonl and text.startswith("#")):
            continue
        if jsonl:
            try:
                row = json.loads(text)
            except json.JSONDecodeError:
                raise InputError(f"{source}:{number}: not a JSON object") from None
            if not isinstance(row, dict) or not isinstance(row.get("prompt"), str):
                raise InputError(f"{source}:{number}: a JSON line needs a string 'prompt' field")
            text = row["prompt"].strip()
            if not text:  # it could never be augmented: a rerun would retry it for ever
                raise InputError(f"{source}:{number}: the 'prompt' field is empty")
        elif text.startswith("{") and _is_json_object(text):  # it would be generated as its literal text
            raise InputError(f"{source}:{number}: a JSON line in a text file; name the file .jsonl to read "
                             "its 'prompt' field")
        check_prompt_size(text, f"{source}:{number}")  # every command's limits, before any work
        prompts.append(" ".join(text.split()))
    if not prompts:
        raise InputError(f"{source}: contains no prompts")
    if len(prompts) > MAX_ITEMS:
        raise InputError(f"{source}: {len(prompts):,} prompts, more than {MAX_ITEMS:,} in one batch")
    return prompts


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except json.JSONDecodeError:
        return False
