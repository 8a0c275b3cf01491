"""Tables worth keeping across processes: parsed WordNet indexes, measured palettes, MiniLM
vectors of fixed word lists.

Each table is one file ``<cache_dir>/tables/<name>-<digest>.marshal`` next to the augmentation
cache (:func:`text3d.prompts.cache.cache_dir`). The digest is the SHA-256 of ``TABLES_VERSION``,
text3d's version, the table's name and its ``key`` (whatever the table is computed from: source
file sizes and mtimes, word lists, constants), so a changed input reads as a miss. The file holds
``(digest, payload)`` in :mod:`marshal` format (plain Python values only: dicts, lists, tuples,
str, bytes, numbers), written atomically (:mod:`text3d.store.atomic`); a file that cannot be read
or holds another digest is rebuilt and replaced, a directory that cannot be written only costs
the rebuild next time. Nothing here is ever fatal.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from text3d.prompts.cache import cache_dir
from text3d.store.atomic import write_bytes
from text3d.version import __version__

log = logging.getLogger(__name__)
T = TypeVar("T")
_PACKAGE_ROOT = Path(__file__).parent.parent  # the text3d package folder

TABLES_VERSION = 1
"""Bump when the layout of any table changes."""
TABLES_FOLDER = "tables"
_LOCK = threading.Lock()


def tables_dir() -> Path:
    """``<cache_dir>/tables``."""
    return cache_dir() / TABLES_FOLDER


def table_digest(name: str, key: Any) -> str:
    """SHA-256 hex of ``TABLES_VERSION``, text3d's version, ``name`` and ``repr(key)``."""
    text = repr((TABLES_VERSION, __version__, name, key))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_fingerprint(*paths: str | Path) -> tuple[tuple[str, int, int], ...]:
    """(path, size, mtime in ns) of each file, for keys of tables computed from files."""
    out = []
    for path in paths:
        stat = Path(path).stat()
        out.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(out)


def source_fingerprint(*modules: str) -> str:
    """SHA-256 hex of the source text of the named text3d modules (a package: every ``.py`` file
    under it, sorted), for keys of tables computed by code. Nothing is imported."""
    root = _PACKAGE_ROOT
    digest = hashlib.sha256()
    for module in modules:
        parts = module.split(".")
        if parts[0] != "text3d":
            raise ValueError(f"{module}: not a text3d module")
        base = root.joinpath(*parts[1:])
        files = sorted(base.rglob("*.py")) if base.is_dir() else [base.with_suffix(".py")]
        for path in files:
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes() if path.exists() else b"missing")
    return digest.hexdigest()


def _path(name: str, digest: str) -> Path:
    return tables_dir() / f"{name}-{digest[:24]}.marshal"


def read_table(name: str, key: Any) -> Any | None:
    """The stored payload of table ``name`` for ``key``, or None (absent, stale or unreadable)."""
    digest = table_digest(name, key)
    path = _path(name, digest)
    try:
        stored, payload = marshal.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, EOFError, ValueError, TypeError) as exc:
        log.debug("table %s: %s unreadable (%s); rebuilding", name, path, exc)
        return None
    if stored != digest:
        log.debug("table %s: %s holds another digest; rebuilding", name, path)
        return None
    return payload


def write_table(name: str, key: Any, payload: Any) -> None:
    """Store ``payload`` (marshal-able) as table ``name`` for ``key``; older files of ``name`` are
    removed. Failures are logged at debug level and ignored."""
    digest = table_digest(name, key)
    path = _path(name, digest)
    try:
        data = marshal.dumps((digest, payload))
        with _LOCK:
            write_bytes(path, data)
            for stale in path.parent.glob(f"{name}-*.marshal"):
                if stale != path and len(stale.stem) == len(path.stem):  # not "<name>-<other>-…"
                    stale.unlink(missing_ok=True)
    except (OSError, ValueError) as exc:
        log.debug("table %s: not stored in %s (%s)", name, path, exc)


def cached_table(name: str, key: Any, build: Callable[[], T]) -> T:
    """Table ``name`` for ``key``: the stored one, else ``build()`` (then stored)."""
    payload = read_table(name, key)
    if payload is None:
        payload = build()
        write_table(name, key, payload)
    return payload
