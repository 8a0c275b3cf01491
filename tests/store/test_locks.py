import json
import os
import threading
import time

import pytest

from text3d.errors import BusyError
from text3d.store import locks
from text3d.store.locks import exclusive, folder_lock


def test_busy_error_names_a_holder_that_writes_its_pid_just_after_locking(tmp_path):
    """Between taking the flock and writing its PID the holder's file is empty: the second
    writer reads it again instead of saying "another process"."""
    import fcntl

    path = folder_lock(tmp_path)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)  # held, file still empty (flock is per open file: we conflict with it)

    def write_late() -> None:
        time.sleep(0.2)
        os.write(fd, json.dumps({"pid": 4242, "command": "text3d generate"}).encode())

    writer = threading.Thread(target=write_late)
    writer.start()
    try:
        with pytest.raises(BusyError, match=r"in use by PID 4242 \(text3d generate\)"):
            with exclusive(path, str(tmp_path)):
                pass
    finally:
        writer.join()
        os.close(fd)


def test_a_holder_that_never_writes_is_another_process(tmp_path, monkeypatch):
    import fcntl

    path = folder_lock(tmp_path)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    monkeypatch.setattr(locks, "_holder", lambda p, patience_s=0.05, real=locks._holder: real(p, patience_s))
    try:
        with pytest.raises(BusyError, match="in use by another process"):
            with exclusive(path, str(tmp_path)):
                pass
    finally:
        os.close(fd)


def test_a_lock_that_cannot_be_created_is_one_line_naming_the_output():
    from text3d.errors import InputError
    from text3d.store.locks import file_lock

    # /proc accepts no new files: os.open fails with ENOENT, which is neither NotADirectory nor Permission
    with pytest.raises(InputError, match=r"^/proc/x\.ply: cannot write there \(no such file or directory\)$"):
        with exclusive(file_lock("/proc/x.ply"), "/proc/x.ply"):
            pass
