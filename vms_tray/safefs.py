"""vms-tray's own files and folders, opened so that nobody else can redirect them.

The run directory (control socket, instance lock, ``daemon.pid``) and the log directory are
private folders of the user's: a real directory, not a symbolic link, owned by the user, mode
0700. ``private_dir`` checks exactly that on an open descriptor (``O_NOFOLLOW``), so a link
swapped in after the check changes nothing; files inside are then opened relative to that
descriptor with ``O_NOFOLLOW`` as well. A permission change is made with ``fchmod`` on the
descriptor, never through a path that could be a link to somebody else's folder.

``read_regular`` reads a config file the user may keep behind a symlink (dotfile managers), but
only a regular file and only up to a size limit: a link to ``/dev/zero`` or a FIFO is refused at
once instead of filling memory or hanging the start.

``write_atomic`` is the one way vms-tray replaces a file (the server list, autostart entries,
a saved captcha): a crash leaves the old or the new file, never a mix.

Every refusal is an ``UnsafePath``: one line naming the path and what to do.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from vms_tray.errors import VmsTrayError

CONFIG_LIMIT = 1024 * 1024  # servers.toml, settings.toml: a thousand servers take some 200 KB

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


class UnsafePath(VmsTrayError):
    """A file or folder of vms-tray's own is a symlink, someone else's, or not usable."""

    def __init__(self, path: object, problem: str, advice: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path} {problem}: {advice}")


def _uid() -> int | None:
    return os.getuid() if hasattr(os, "getuid") else None


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def dir_problem(st: os.stat_result) -> str | None:
    """Why a directory with this (lstat/fstat) status is not a private folder of ours."""
    if stat.S_ISLNK(st.st_mode):
        return "is a symbolic link, not a folder"
    if not stat.S_ISDIR(st.st_mode):
        return "is not a folder"
    uid = _uid()
    if uid is not None and st.st_uid != uid:
        return f"belongs to another user (uid {st.st_uid})"
    return None


def open_dir(path: Path) -> int:
    """An O_NOFOLLOW descriptor of an existing directory (FileNotFoundError if missing).

    Raises UnsafePath when ``path`` is a symlink or not a directory; ownership and mode are the
    caller's to check (``fstat``)."""
    try:
        return os.open(path, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as exc:
        try:
            st = os.lstat(path)
        except OSError:
            st = None
        problem = dir_problem(st) if st is not None else None
        raise UnsafePath(
            path,
            problem or f"cannot be opened ({_reason(exc)})",
            "remove it (vms-tray creates its own private folder there)",
        ) from None


def private_dir(path: Path, *, what: str = "vms-tray's private folder") -> int:
    """Create ``path`` if needed and return an O_NOFOLLOW descriptor of it, verified to be a
    real directory owned by the user with mode 0700 (tightened with fchmod when it was
    looser). The caller closes the descriptor."""
    advice = f"remove it, or set VMS_TRAY_PROFILE to another folder ({what} must be yours alone)"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, 0o700)
    except (FileExistsError, NotADirectoryError) as exc:
        # A file where a folder of the path should be: name that one.
        raise UnsafePath(exc.filename or path, "is not a folder", advice) from None
    except OSError as exc:
        where = exc.filename or path
        raise UnsafePath(where, f"cannot be created ({_reason(exc)})", advice) from None
    try:
        fd = open_dir(path)
    except FileNotFoundError:
        raise UnsafePath(path, "vanished while vms-tray was creating it", "start again") from None
    except UnsafePath as exc:
        raise UnsafePath(path, exc.problem, advice) from None
    try:
        st = os.fstat(fd)
        problem = dir_problem(st)
        if problem:
            raise UnsafePath(path, problem, advice)
        if hasattr(os, "fchmod") and stat.S_IMODE(st.st_mode) != 0o700:
            os.fchmod(fd, 0o700)
    except OSError as exc:
        os.close(fd)
        raise UnsafePath(path, f"cannot be made private ({_reason(exc)})", advice) from None
    except BaseException:
        os.close(fd)
        raise
    return fd


class PrivateDir:
    """An opened private folder: files in it are looked at and written relative to its
    descriptor, never through a link. Where folders cannot be opened (Windows), by path."""

    def __init__(self, path: Path, fd: int | None) -> None:
        self.path = path
        self.fd = fd

    def is_symlink(self, name: str) -> bool:
        try:
            if self.fd is None:
                return stat.S_ISLNK(os.lstat(self.path / name).st_mode)
            return stat.S_ISLNK(os.stat(name, dir_fd=self.fd, follow_symlinks=False).st_mode)
        except OSError:
            return False

    def write(self, name: str, data: bytes) -> None:
        """Write ``name`` (0600) in this folder; a symlink in its place is refused."""
        shown = self.path / name
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NOFOLLOW | _CLOEXEC
        if self.fd is None and self.is_symlink(name):
            raise UnsafePath(shown, "is a symbolic link", "remove it and start vms-tray again")
        try:
            if self.fd is None:
                fd = os.open(shown, flags, 0o600)
            else:
                fd = os.open(name, flags, 0o600, dir_fd=self.fd)
        except OSError as exc:
            problem = (
                "is a symbolic link"
                if self.is_symlink(name)
                else f"cannot be written ({_reason(exc)})"
            )
            raise UnsafePath(shown, problem, "remove it and start vms-tray again") from None
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)


@contextlib.contextmanager
def opened_private_dir(
    path: Path, *, what: str = "vms-tray's private folder"
) -> Iterator[PrivateDir]:
    """``private_dir`` for the length of a ``with`` block."""
    if not _NOFOLLOW or not _DIRECTORY:  # Windows: per-user folders, checked by path
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UnsafePath(
                path,
                f"cannot be created ({_reason(exc)})",
                "set VMS_TRAY_PROFILE to another folder",
            ) from None
        if os.path.islink(path):
            raise UnsafePath(path, "is a symbolic link, not a folder", "remove it")
        yield PrivateDir(path, None)
        return
    fd = private_dir(path, what=what)
    try:
        yield PrivateDir(path, fd)
    finally:
        os.close(fd)


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of the regular file at ``path`` (symlinks to one are followed), at most
    ``limit`` of them. FileNotFoundError when it does not exist; UnsafePath when it is not a
    regular file or is larger than ``limit``; other OSErrors as they come."""
    # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
    fd = os.open(path, os.O_RDONLY | _NONBLOCK | _CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePath(
                path, "is not a regular file", "replace it with a plain text file or remove it"
            )
        if st.st_size > limit:
            raise UnsafePath(path, f"is larger than {_size(limit)}", "it is not a vms-tray file")
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(65536, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:  # it grew while we read
            raise UnsafePath(path, f"is larger than {_size(limit)}", "it is not a vms-tray file")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"


def write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old or the new file, never a mix.

    A temporary file in the same folder (``.NAME.*.tmp``, created exclusively), given ``mode``
    before a byte is written, fsync'd, renamed over ``path``, and the folder fsync'd so the
    rename survives a power cut. On failure the temporary file is removed and the OSError
    propagates: callers turn it into their own one-line error.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            else:  # Windows: only the read-only bit exists
                os.chmod(tmp, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def atomic_temps(path: Path) -> list[Path]:
    """The temporary files ``write_atomic`` makes for ``path``: any that exist while no writer
    runs were left by one that died."""
    return sorted(path.parent.glob(f".{path.name}.*.tmp"))


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable; a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on directories; the rename itself is done
    finally:
        os.close(fd)
