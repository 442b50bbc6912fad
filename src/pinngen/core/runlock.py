"""One writer per run folder: an advisory lock that a crashed run cannot leave stuck.

``hold(run_dir)`` takes an exclusive ``flock`` on ``run_dir/.lock`` without waiting; the kernel drops it when
the holding process ends, however it ends (SIGKILL included), so a killed run never blocks the next one. A
second run pointed at a folder in use fails at once with a one-line :class:`RunFolderInUse` naming the
holder's process id and start time. Readers (``pinngen report``, ``predict``) take no lock: every file a run
writes is replaced atomically, so they always read a complete version.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from pathlib import Path

LOCK_NAME = ".lock"


class RunFolderInUse(ValueError):
    """Another process is writing this run folder (a user error: one line, exit 2)."""


@contextlib.contextmanager
def hold(run_dir: str | os.PathLike):
    path = Path(run_dir) / LOCK_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunFolderInUse(f"{run_dir} is in use by another pinngen run ({_holder(path)}); wait for it to "
                                 f"finish, or write this run elsewhere with --out") from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}).encode())
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
        return f"process {info['pid']}, started {info['started']}"
    except (OSError, ValueError, KeyError):
        return "process unknown"
