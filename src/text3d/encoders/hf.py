"""Loading Hugging Face models for the real extractors, offline-aware.

``from_pretrained`` of a model that is neither a local folder nor in the hub cache raises
``OSError`` when ``HF_HUB_OFFLINE`` is set or the network is unreachable; it becomes a
one-line :class:`~text3d.errors.ModelNotAvailableError` that says how to provide weights.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from text3d.encoders.base import not_available, weights_fingerprint
from text3d.progress import progress_enabled

log = logging.getLogger(__name__)


def how_to_provide(extractor: str, hub_id: str, env_var: str) -> str:
    return (f"on a connected machine run `hf download {hub_id} --local-dir DIR`, "
            f"then pass --weights {extractor}=DIR or set {env_var}=DIR")


def load_pretrained(cls: Any, source: str, extractor: str, hub_id: str, env_var: str, **kwargs: Any) -> Any:
    """``cls.from_pretrained(source)``, with missing weights reported as ModelNotAvailableError."""

    if not progress_enabled():  # transformers' own "Loading weights" bars follow TEXT3D_PROGRESS too
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    how = how_to_provide(extractor, hub_id, env_var)
    local = Path(source).expanduser()
    if local.exists() and not local.is_dir():
        raise not_available(extractor, f"{local} is a file; expected a model folder", how)
    try:
        return cls.from_pretrained(str(local) if local.is_dir() else source, **kwargs)
    except (OSError, ValueError) as exc:
        log.debug("from_pretrained(%s) failed: %s", source, exc)
        where = f"looked in {local}" if local.is_dir() else f"hub id {source!r} not in the HF cache, offline"
        raise not_available(extractor, where, how) from exc


def read_json_file(source: str, filename: str) -> dict[str, Any]:
    """``filename`` of a local model folder or a cached hub repo as a dict ({} if absent)."""
    local = Path(source).expanduser()
    if local.is_dir():
        path = local / filename
        return json.loads(path.read_text()) if path.exists() else {}
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(source, filename)
    except (ImportError, ValueError) as exc:
        log.debug("no cached %s for %s: %s", filename, source, exc)
        return {}
    return json.loads(Path(cached).read_text()) if isinstance(cached, str) else {}


def hf_weights_id(source: str) -> str:
    """Cache identity of loaded weights: a local folder's file sizes and mtimes, or a hub id
    with the snapshot (commit) the hub cache resolved it to."""
    if Path(source).expanduser().exists():
        return weights_fingerprint(source)
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(source, "config.json")
    except (ImportError, ValueError) as exc:
        log.debug("no cached config.json for %s: %s", source, exc)
        return source
    return f"{source}@{Path(cached).parent.name}" if isinstance(cached, str) else source
