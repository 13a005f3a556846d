"""One daemon per user (per profile): an OS file lock that dies with its process.

The lock, not the socket file, says whether a daemon runs: a daemon that crashed leaves its socket
file behind but its lock is released by the OS, so the next start takes over and replaces the
stale socket.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import filelock

from vms_tray import paths


class InstanceLock:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.runtime_dir() / "daemon.lock"
        self._lock: filelock.BaseFileLock | None = None

    def acquire(self) -> bool:
        """True if this process is now the only daemon; False if another one holds the lock."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(OSError):
            self.path.parent.chmod(0o700)
        lock = filelock.FileLock(str(self.path), timeout=0, thread_local=False)
        try:
            lock.acquire()
        except filelock.Timeout:
            return False
        self._lock = lock
        with contextlib.suppress(OSError):
            (self.path.parent / "daemon.pid").write_text(f"{os.getpid()}\n")
        return True

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
