"""A persistent cache of augmentation results, safe with several processes writing at once.

One SQLite file, ``$TEXT3D_CACHE_DIR/augment.sqlite`` (default ``~/.cache/text3d/``), in
WAL mode: readers never block the writer, writers wait for each other through SQLite's own
file locks (``busy_timeout``), and every write is one autocommitted ``INSERT OR REPLACE``,
so a crash loses at most the row being written. A row is keyed by the SHA-256 of the
canonical JSON (sorted keys, no spaces) of backend, endpoint, model, prompt, parameters and
seed, and holds the result as JSON. Only captions that pass the caption rules are stored, and
only such rows are served. Each process opens its own connection (connections are not
shared across ``fork``). A damaged cache file is reported once and bypassed, never fatal.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CACHE_FILE = "augment.sqlite"
_SCHEMA = ("CREATE TABLE IF NOT EXISTS augment "
           "(key TEXT PRIMARY KEY, created REAL NOT NULL, result TEXT NOT NULL)")
_BUSY_TIMEOUT_S = 30.0


def cache_dir() -> Path:
    """``$TEXT3D_CACHE_DIR``, else ``~/.cache/text3d``."""
    configured = os.environ.get("TEXT3D_CACHE_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "text3d"


def cache_key(backend: str, model: str, prompt: str, params: dict[str, Any], seed: int, endpoint: str = "") -> str:
    """SHA-256 hex digest of the canonical JSON of everything that determines a result: the
    backend, its endpoint (a server's URL) and model, the prompt, the parameters and the seed."""
    document = {"backend": backend, "model": model, "prompt": prompt, "params": params, "seed": seed}
    if endpoint:
        document["endpoint"] = endpoint
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class AugmentCache:
    """Get and put result dicts by :func:`cache_key`; see the module docstring."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else cache_dir() / CACHE_FILE
        self._connection: sqlite3.Connection | None = None
        self._pid = -1
        self._lock = threading.Lock()
        self._broken = False

    def _connect(self) -> sqlite3.Connection | None:
        if self._broken:
            return None
        if self._connection is not None and self._pid == os.getpid():
            return self._connection
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None,
                                         check_same_thread=False)
            self._retry_locked(lambda: connection.execute("PRAGMA journal_mode=WAL"))
            connection.execute("PRAGMA synchronous=NORMAL")
            self._retry_locked(lambda: connection.execute(_SCHEMA))
        except (sqlite3.Error, OSError) as exc:
            self._disable(exc)
            return None
        self._connection, self._pid = connection, os.getpid()
        return connection

    @staticmethod
    def _retry_locked(action: Any) -> Any:
        """Run ``action``, retrying while another process holds a lock SQLite did not wait for."""
        deadline = time.monotonic() + _BUSY_TIMEOUT_S
        while True:
            try:
                return action()
            except sqlite3.OperationalError as exc:
                lock_error = "locked" in str(exc) or "busy" in str(exc)
                if not lock_error or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def _disable(self, exc: BaseException) -> None:
        if not self._broken:
            log.warning("augmentation cache %s is unusable (%s); continuing without it", self.path, exc)
        self._broken = True

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached result for ``key``, or ``None``."""
        with self._lock:
            connection = self._connect()
            if connection is None:
                return None
            try:
                row = self._retry_locked(
                    lambda: connection.execute("SELECT result FROM augment WHERE key = ?", (key,)).fetchone())
            except sqlite3.Error as exc:
                self._disable(exc)
                return None
        if row is None:
            return None
        try:
            value = json.loads(row[0])
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None

    def put(self, key: str, result: dict[str, Any]) -> None:
        """Store ``result`` under ``key`` (one atomic autocommitted statement)."""
        text = json.dumps(result, sort_keys=True, ensure_ascii=False)
        with self._lock:
            connection = self._connect()
            if connection is None:
                return
            try:
                self._retry_locked(lambda: connection.execute(
                    "INSERT OR REPLACE INTO augment (key, created, result) VALUES (?, ?, ?)",
                    (key, time.time(), text)))
            except sqlite3.Error as exc:
                self._disable(exc)

    def __len__(self) -> int:
        with self._lock:
            connection = self._connect()
            if connection is None:
                return 0
            return int(connection.execute("SELECT COUNT(*) FROM augment").fetchone()[0])

    def close(self) -> None:
        """Close this process's connection."""
        with self._lock:
            if self._connection is not None and self._pid == os.getpid():
                self._connection.close()
            self._connection = None
