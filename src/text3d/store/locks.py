"""Exclusive locks on output folders and files, held for a whole job.

Two processes writing the same asset folder, run folder or results file would both report
success while one result vanished. Every writing command therefore holds an exclusive
``flock`` on a lock file for as long as it writes:

* a folder (asset folder, run folder, render folder, evaluation folder): ``<folder>/.text3d.lock``;
* a file (a JSONL results file, a point cloud): the hidden ``.<name>.lock`` beside it.

The lock file holds the holder's PID and command line, so a second writer is told
"in use by PID 1234 (text3d generate …)" (:class:`~text3d.errors.BusyError`, exit code 5),
or waits up to ``wait_s`` seconds when asked to. The kernel drops a ``flock`` when its process
dies, so a killed job never leaves a stale lock behind; the file itself stays (harmless).
Within one process the same path may be locked again (nested jobs, e.g. evaluating into the
run folder being evaluated): the lock is counted, not taken twice.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from text3d.errors import BusyError, InputError

LOCK_NAME = ".text3d.lock"
_POLL_S = 0.2

_held: dict[str, tuple[int, int]] = {}  # resolved lock path → (fd, depth) in this process
_guard = threading.Lock()


def folder_lock(folder: str | Path) -> Path:
    """The lock file of a folder: ``<folder>/.text3d.lock``."""
    return Path(folder) / LOCK_NAME


def file_lock(path: str | Path) -> Path:
    """The lock file of a file: the hidden ``.<name>.lock`` beside it."""
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


def _holder(path: Path, patience_s: float = 1.0) -> str:
    """"PID n (command)" from the lock file; the holder writes it just after taking the lock,
    so an empty or partly written file is read again for up to ``patience_s`` seconds."""
    deadline = time.monotonic() + patience_s
    while True:
        try:
            doc = json.loads(path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            doc = {}
        pid, command = doc.get("pid"), doc.get("command")
        if pid:
            return f"PID {pid}" + (f" ({command})" if command else "")
        if time.monotonic() >= deadline:
            return "another process"
        time.sleep(0.02)


def _open(path: Path, what: str) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except NotADirectoryError:
        raise InputError(f"{what}: a parent of this path is a file, not a folder") from None
    except PermissionError:
        raise InputError(f"{what}: permission denied (read-only folder?)") from None
    except OSError as exc:  # e.g. a pseudo-filesystem such as /proc, where no file can be created
        raise InputError(f"{what}: cannot write there ({(exc.strerror or str(exc)).lower()})") from None


@contextmanager
def exclusive(lock_file: str | Path, what: str, wait_s: float = 0.0, can_wait: bool = True) -> Iterator[Path]:
    """Hold the exclusive lock ``lock_file`` (from :func:`folder_lock` / :func:`file_lock`)
    inside the ``with`` block; ``what`` names the output in messages.

    ``wait_s`` 0 fails at once with :class:`BusyError` naming the holder (and suggesting
    ``--wait`` when ``can_wait``: the command has that option); a positive value polls until the
    lock is free or the time is up.
    """
    path = Path(lock_file)
    label = what
    key = str(path.resolve())
    with _guard:
        if key in _held:
            fd, depth = _held[key]
            _held[key] = (fd, depth + 1)
            nested = True
        else:
            nested = False
    if nested:
        try:
            yield path
        finally:
            _release(key)
        return
    fd = _open(path, label)
    deadline = time.monotonic() + max(0.0, wait_s)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                os.close(fd)
                raise
            if time.monotonic() >= deadline:
                os.close(fd)
                hint = (f"waited {wait_s:g} s" if wait_s > 0 else "wait for it to finish, or pass --wait" if can_wait
                        else "stop it first, or give another folder")
                raise BusyError(f"{label}: in use by {_holder(path)}; {hint}") from None
            time.sleep(_POLL_S)
    os.ftruncate(fd, 0)
    os.write(fd, json.dumps({"pid": os.getpid(), "command": " ".join(_command())}).encode("utf-8"))
    with _guard:
        _held[key] = (fd, 1)
    try:
        yield path
    finally:
        _release(key)


def _release(key: str) -> None:
    with _guard:
        fd, depth = _held[key]
        if depth > 1:
            _held[key] = (fd, depth - 1)
            return
        del _held[key]
    try:
        os.ftruncate(fd, 0)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _command() -> list[str]:
    argv = [Path(sys.argv[0]).name] + sys.argv[1:] if sys.argv and sys.argv[0] else []
    return [a if len(a) < 60 else a[:57] + "…" for a in argv[:8]]
