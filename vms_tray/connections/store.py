"""The server list on disk: an atomic, locked TOML file (the list's rules are in ``rules``).

The API other modules use (nothing else here is public)::

    ConnectionStore(path=None)                   path defaults to vms_tray.paths.config_file()
        .path
        .load() -> ConnectionList                missing file: empty list; bad file: ConfigError
        .update(fn) -> ConnectionList            lock, re-read, fn(list), write; returns fn's list
        .get(name), .default()                   shorthands for load().get(name) / .default()
        .reset() -> Path | None                  move the file aside (timestamped); the backup path

The file is TOML with ``schema_version = 1``. It is written atomically
(:func:`vms_tray.safefs.write_atomic`), mode 0600 in a 0700 directory, so a crash leaves the old
or the new file, never a mix. ``update`` holds a lock file (``servers.toml.lock``) across re-read,
change and write, so the daemon and a CLI call never lose each other's change; temporary files
left by a writer that died are removed by the next writer. ``load`` takes no lock: the rename
makes every read see one whole file. A file that cannot be parsed or breaks a rule raises
ConfigError naming the file and is never overwritten; ``reset`` moves it aside.
``load`` reads a regular file only (a symlink to one is fine; to a device or FIFO is refused) and
at most ``MAX_FILE`` bytes: a link to ``/dev/zero`` is a one-line ConfigError, not a full memory.
Passwords are never here: see :mod:`vms_tray.credentials`.
"""

from __future__ import annotations

import contextlib
import os
import threading
import tomllib
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import tomli_w

from vms_tray import paths, safefs
from vms_tray.connections.model import DEFAULT_KIND, Connection, Trust, TrustMode
from vms_tray.connections.rules import TRUST_MODES, ConnectionList, validated
from vms_tray.errors import ConfigError, ConfigWriteError, InvalidInput, UnknownConnection

__all__ = ["SCHEMA_VERSION", "ConnectionStore", "read_list"]

SCHEMA_VERSION = 1
LOCK_TIMEOUT = 15.0  # seconds; a writer holds the lock for milliseconds
MAX_FILE = safefs.CONFIG_LIMIT
_HEADER = (
    "# vms-tray server connections (written by vms-tray; edit with 'vms-tray servers').\n"
    "# Passwords are not stored here: they live in the system keyring.\n"
)


# --- TOML mapping ----------------------------------------------------------------------------

_CONNECTION_KEYS = {"name", "url", "login", "kind", "default", "trust", "client_type"}
_TRUST_KEYS = {"mode", "ca_file", "pin_sha256"}
_TOP_KEYS = {"schema_version", "connections", "last_used"}
_TOML_TYPES: dict[type, str] = {
    int: "an integer",
    str: "a string",
    bool: "true or false",
    list: "a list",
    dict: "a table",
}


def _to_toml(lst: ConnectionList) -> dict[str, Any]:
    doc: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    if lst.last_used is not None:
        doc["last_used"] = lst.last_used
    entries = []
    for c in lst:
        trust: dict[str, str] = {"mode": c.trust.mode}
        if c.trust.ca_file:
            trust["ca_file"] = c.trust.ca_file
        if c.trust.pin_sha256:
            trust["pin_sha256"] = c.trust.pin_sha256
        entry: dict[str, Any] = {
            "name": c.name,
            "url": c.url,
            "login": c.login,
            "kind": c.kind,
            "default": c.default,
            "trust": trust,
        }
        if c.client_type is not None:
            entry["client_type"] = c.client_type
        entries.append(entry)
    doc["connections"] = entries
    return doc


class _Bad(Exception):
    """A problem in the file's content; becomes ConfigError(path, problem)."""


def _field(table: Mapping[str, Any], key: str, kind: type, where: str, default: Any = None) -> Any:
    if key not in table:
        if default is not None:
            return default
        raise _Bad(f"{where} has no {key!r}")
    value = table[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Bad(f"{where}: {key!r} must be {_TOML_TYPES[kind]}")
    return value


def _unknown_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise _Bad(f"{where} has unknown key {extra[0]!r}")


def _from_toml(doc: Mapping[str, Any]) -> ConnectionList:
    version = _field(doc, "schema_version", int, "the file")
    if version != SCHEMA_VERSION:
        newer = " (written by a newer vms-tray: upgrade it)" if version > SCHEMA_VERSION else ""
        raise _Bad(f"unsupported schema_version {version}{newer}")
    _unknown_keys(doc, _TOP_KEYS, "the file")
    raw_list = _field(doc, "connections", list, "the file", default=[])
    items: list[Connection] = []
    for i, raw in enumerate(raw_list, start=1):
        where = f"connection #{i}"
        if not isinstance(raw, dict):
            raise _Bad(f"{where} is not a table")
        _unknown_keys(raw, _CONNECTION_KEYS, where)
        trust_raw = _field(raw, "trust", dict, where, default={"mode": "system"})
        _unknown_keys(trust_raw, _TRUST_KEYS, f"{where} trust")
        mode = _field(trust_raw, "mode", str, f"{where} trust")
        if mode not in TRUST_MODES:
            raise _Bad(f"{where}: unknown trust mode {mode!r} (system, ca-file or pinned)")
        trust = Trust(
            mode=cast(TrustMode, mode),
            ca_file=_optional_str(trust_raw, "ca_file", f"{where} trust"),
            pin_sha256=_optional_str(trust_raw, "pin_sha256", f"{where} trust"),
        )
        try:
            items.append(
                validated(
                    Connection(
                        name=_field(raw, "name", str, where),
                        url=_field(raw, "url", str, where),
                        login=_field(raw, "login", str, where),
                        kind=_field(raw, "kind", str, where, default=DEFAULT_KIND),
                        default=bool(_field(raw, "default", bool, where, default=False)),
                        trust=trust,
                        client_type=_optional_str(raw, "client_type", where),
                    )
                )
            )
        except InvalidInput as exc:
            raise _Bad(f"{where}: {exc}") from None
    last_used = _optional_str(doc, "last_used", "the file")
    try:
        return ConnectionList(items, last_used)
    except UnknownConnection:
        raise _Bad(f"last_used names no server ({last_used!r})") from None
    except InvalidInput as exc:
        raise _Bad(str(exc)) from None


def _optional_str(table: Mapping[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise _Bad(f"{where}: {key!r} must be a string")
    return value


def _parse(path: Path, data: bytes) -> ConnectionList:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(path, "it is not UTF-8 text") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, f"it is not valid TOML: {exc}") from None
    except RecursionError:  # arrays nested thousands deep: no server list looks like that
        raise ConfigError(path, "it is nested too deeply to be a server list") from None
    try:
        return _from_toml(doc)
    except _Bad as exc:
        raise ConfigError(path, str(exc)) from None


def _dump(lst: ConnectionList) -> bytes:
    return (_HEADER + tomli_w.dumps(_to_toml(lst))).encode("utf-8")


def read_list(path: Path) -> ConnectionList:
    """The list in a servers.toml (the user's or the administrator's); missing: empty."""
    try:
        data = safefs.read_regular(path, MAX_FILE)
    except FileNotFoundError:
        return ConnectionList()
    except safefs.UnsafePath as exc:
        raise ConfigError(path, f"it {exc.problem}") from None
    except OSError as exc:
        raise ConfigError(path, f"cannot read it ({exc.strerror or exc})") from None
    return _parse(path, data)


# --- the store -------------------------------------------------------------------------------


class ConnectionStore:
    """The connection list on disk. Thread-safe; safe across processes (see module docstring)."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        lock_timeout: float = LOCK_TIMEOUT,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._private_dir = path is None  # our own config dir: keep it 0700
        self.path = path if path is not None else paths.config_file()
        self._lock_timeout = lock_timeout
        self._clock = clock
        self._thread_lock = threading.Lock()

    def load(self) -> ConnectionList:
        return read_list(self.path)

    def get(self, name: str) -> Connection:
        """Shorthand for ``load().get(name)``."""
        return self.load().get(name)

    def default(self) -> Connection | None:
        """Shorthand for ``load().default()``."""
        return self.load().default()

    def update(self, fn: Callable[[ConnectionList], ConnectionList]) -> ConnectionList:
        """Apply ``fn`` to the current list and save its result, as one locked step.

        Errors raised by ``fn`` (e.g. InvalidInput) propagate and nothing is written. A result
        equal to the current list is not written again.
        """
        with self._locked():
            current = self.load()
            new = fn(current)
            if new != current:
                self._write(new)
            return new

    def reset(self) -> Path | None:
        """Move the file aside as ``servers.toml.<UTC time>.bak`` and start empty.

        Returns the backup's path, or None when there was no file.
        """
        with self._locked():
            if not self.path.exists() and not self.path.is_symlink():
                return None
            stamp = self._clock().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
            backup = self.path.with_name(f"{self.path.name}.{stamp}.bak")
            n = 1
            while backup.exists():
                backup = self.path.with_name(f"{self.path.name}.{stamp}-{n}.bak")
                n += 1
            try:
                os.rename(self.path, backup)
                safefs.fsync_dir(self.path.parent)
            except OSError as exc:
                raise ConfigWriteError(
                    f"cannot move {self.path} aside ({exc.strerror or exc}): "
                    "check the folder's permissions"
                ) from None
            return backup

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        directory = self.path.parent
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            if self._private_dir and (directory.stat().st_mode & 0o077):
                directory.chmod(0o700)
        except OSError as exc:
            raise ConfigWriteError(
                f"cannot create the config folder {directory} ({exc.strerror or exc})"
            ) from None
        # Imported here: only a write locks, and filelock costs about 15 ms at start-up, which
        # reading commands (`vms-tray servers list`, the daemon's start) need not pay (issue 13).
        import filelock

        lock = filelock.FileLock(
            directory / f"{self.path.name}.lock", timeout=self._lock_timeout, mode=0o600
        )
        with self._thread_lock:
            try:
                lock.acquire()
            except filelock.Timeout:
                raise ConfigWriteError(
                    f"{self.path} stayed locked by another vms-tray process for "
                    f"{self._lock_timeout:g} s: try again"
                ) from None
            except OSError as exc:
                raise ConfigWriteError(
                    f"cannot lock {self.path} ({exc.strerror or exc}): check the folder's "
                    "permissions"
                ) from None
            try:
                self._remove_stale_temps()
                yield
            finally:
                lock.release()

    def _target(self) -> Path:
        # Write through a symlinked config (dotfile managers) instead of replacing the link.
        return self.path.resolve() if self.path.is_symlink() else self.path

    def _remove_stale_temps(self) -> None:
        # Only a lock holder creates temporary files, and we hold the lock: any left is from a
        # writer that died.
        for stale in safefs.atomic_temps(self._target()):
            with contextlib.suppress(OSError):
                stale.unlink()

    def _write(self, lst: ConnectionList) -> None:
        target = self._target()
        try:
            # 0600: the list names servers and logins (never passwords).
            safefs.write_atomic(target, _dump(lst), 0o600)
        except OSError as exc:
            raise ConfigWriteError(
                f"cannot write {target} ({exc.strerror or exc}): nothing was changed"
            ) from None
