"""One daemon per user (per profile): an OS file lock that dies with its process.

The lock, not the socket file, says whether a daemon runs: a daemon that crashed leaves its socket
file behind but its lock is released by the OS, so the next start takes over and replaces the
stale socket.

The run directory is made and checked through ``safefs.private_dir`` (a real folder of the
user's, 0700, never chmod-ed through a link); the lock file and ``daemon.pid`` inside it are
refused when they are symlinks.
"""

from __future__ import annotations

import os
from pathlib import Path

import filelock

from vms_tray import paths, safefs


class InstanceLock:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.runtime_dir() / "daemon.lock"
        self._lock: filelock.BaseFileLock | None = None

    def acquire(self) -> bool:
        """True if this process is now the only daemon; False if another one holds the lock."""
        with safefs.opened_private_dir(self.path.parent, what="the run folder") as folder:
            if folder.is_symlink(self.path.name):
                raise safefs.UnsafePath(
                    self.path, "is a symbolic link", "remove it and start vms-tray again"
                )
            lock = filelock.FileLock(str(self.path), timeout=0, thread_local=False)
            try:
                lock.acquire()
            except filelock.Timeout:
                return False
            except OSError as exc:
                raise safefs.UnsafePath(
                    self.path,
                    f"cannot be locked ({exc.strerror or type(exc).__name__})",
                    "check the run folder's permissions, or set VMS_TRAY_PROFILE to another folder",
                ) from None
            self._lock = lock
            try:
                folder.write("daemon.pid", f"{os.getpid()}\n".encode())
            except safefs.UnsafePath:
                self.release()
                raise
        return True

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
