"""Server connections: the rules of the list, and its atomic, locked TOML store.

The API other modules use (nothing else here is public)::

    ConnectionList(connections=(), last_used=None)   immutable value; validates its invariants
        .connections -> tuple[Connection, ...]   in the order they were added
        .last_used -> str | None                 name of the connection used last (the daemon's)
        len(lst), iter(lst), bool(lst), name in lst (case-insensitive)
        .get(name) -> Connection                 case-insensitive; UnknownConnection if absent
        .find(name) -> Connection | None
        .names() -> tuple[str, ...]
        .default() -> Connection | None          None only for an empty list
        .preferred() -> Connection | None        last_used if set, else the default
        .add(name, url, login, *, kind="native", trust=Trust(), make_default=False) -> new list
        .edit(name, *, new_name=, url=, login=, kind=, trust=) -> new list   (None = unchanged)
        .remove(name) -> new list
        .set_default(name) -> new list
        .with_last_used(name | None) -> new list

    ConnectionStore(path=None)                   path defaults to vms_tray.paths.config_file()
        .path
        .load() -> ConnectionList                missing file: empty list; bad file: ConfigError
        .update(fn) -> ConnectionList            lock, re-read, fn(list), write; returns fn's list
        .get(name), .default()                   shorthands for load().get(name) / .default()
        .set_last_used(name | None) -> ConnectionList   update(lambda l: l.with_last_used(name))
        .reset() -> Path | None                  move the file aside (timestamped); the backup path

    ca_file_trust(path) -> Trust                 checks a readable PEM CA file; absolute path
    name_key(name) -> str                        the case-insensitive identity of a name

Rules (those of the client vms-tray follows): names are trimmed, non-empty and unique ignoring
case; URLs are normalised https URLs (:mod:`vms_tray.urls`); the first connection added becomes
the default; a non-empty list always has exactly one default; the default cannot be removed while
other connections exist (choose another default first) — the sole connection can be removed.
Every method validates and returns a new list or raises an :class:`~vms_tray.errors.InvalidInput`
(or :class:`~vms_tray.errors.UnknownConnection`); the list it was called on never changes.

The file is TOML with ``schema_version = 1``. It is written atomically (a temporary file in the
same directory, fsync, rename, fsync of the directory), mode 0600 in a 0700 directory, so a crash
leaves the old or the new file, never a mix. ``update`` holds a lock file (``servers.toml.lock``)
across re-read, change and write, so the daemon and a CLI call never lose each other's change;
temporary files left by a writer that died are removed by the next writer. ``load`` takes no lock:
the rename makes every read see one whole file. A file that cannot be parsed or breaks a rule
raises ConfigError naming the file and is never overwritten; ``reset`` moves it aside.
``load`` reads a regular file only (a symlink to one is fine; to a device or FIFO is refused) and
at most ``MAX_FILE`` bytes: a link to ``/dev/zero`` is a one-line ConfigError, not a full memory.
Passwords are never here: see :mod:`vms_tray.credentials`.
"""

from __future__ import annotations

import contextlib
import os
import re
import ssl
import tempfile
import threading
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast, get_args

import filelock
import tomli_w

from vms_tray import paths, safefs
from vms_tray.connections.model import DEFAULT_KIND, KNOWN_KINDS, Connection, Trust, TrustMode
from vms_tray.errors import (
    ConfigError,
    ConfigWriteError,
    DefaultProtected,
    DuplicateName,
    InvalidInput,
    InvalidName,
    UnknownConnection,
)
from vms_tray.urls import normalise_url

__all__ = [
    "SCHEMA_VERSION",
    "ConnectionList",
    "ConnectionStore",
    "ListChanges",
    "ca_file_trust",
    "name_key",
]

SCHEMA_VERSION = 1
LOCK_TIMEOUT = 15.0  # seconds; a writer holds the lock for milliseconds
MAX_FILE = safefs.CONFIG_LIMIT
MAX_NAME = 100
_TRUST_MODES: tuple[str, ...] = get_args(TrustMode)
_HEX64 = re.compile(r"[0-9A-F]{64}")
_HEADER = (
    "# vms-tray server connections (written by vms-tray; edit with 'vms-tray servers').\n"
    "# Passwords are not stored here: they live in the system keyring.\n"
)


def name_key(name: str) -> str:
    """The case-insensitive identity of a connection name (also its keyring entry's key)."""
    return name.strip().casefold()


# --- validation of single values -------------------------------------------------------------


def _has_control(text: str) -> bool:
    return any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in text)


def _check_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise InvalidName("the server name is empty: give it a short name, e.g. 'Office'")
    if _has_control(cleaned):
        raise InvalidName("the server name contains control characters (tabs, new lines...)")
    if len(cleaned) > MAX_NAME:
        raise InvalidName(f"the server name is longer than {MAX_NAME} characters: shorten it")
    return cleaned


def _check_login(login: str) -> str:
    cleaned = login.strip()
    if not cleaned:
        raise InvalidInput("the login is empty: give the user name you sign in with")
    if _has_control(cleaned):
        raise InvalidInput("the login contains control characters (tabs, new lines...)")
    return cleaned


def _check_kind(kind: str) -> str:
    if kind not in KNOWN_KINDS:
        raise InvalidInput(f"unknown server kind {kind!r}: use one of {', '.join(KNOWN_KINDS)}")
    return kind


def _canonical_pin(pin: str) -> str:
    cleaned = pin.replace(":", "").strip().upper()
    if not _HEX64.fullmatch(cleaned):
        raise InvalidInput(
            "the pinned fingerprint is not a SHA-256 (64 hex digits): "
            "pin the certificate again with 'vms-tray servers trust'"
        )
    return ":".join(cleaned[i : i + 2] for i in range(0, 64, 2))


def _check_trust(trust: Trust) -> Trust:
    if trust.mode not in _TRUST_MODES:
        raise InvalidInput(f"unknown trust mode {trust.mode!r}: use system, ca-file or pinned")
    if trust.mode == "system":
        if trust.ca_file or trust.pin_sha256:
            raise InvalidInput("trust mode 'system' takes neither a CA file nor a fingerprint")
        return Trust()
    if trust.mode == "ca-file":
        if trust.pin_sha256:
            raise InvalidInput("trust mode 'ca-file' takes no fingerprint")
        if not trust.ca_file or not os.path.isabs(trust.ca_file):
            raise InvalidInput("trust mode 'ca-file' needs the absolute path of a PEM CA file")
        return Trust(mode="ca-file", ca_file=trust.ca_file)
    if trust.ca_file:
        raise InvalidInput("trust mode 'pinned' takes no CA file")
    if not trust.pin_sha256:
        raise InvalidInput("trust mode 'pinned' needs a SHA-256 fingerprint")
    return Trust(mode="pinned", pin_sha256=_canonical_pin(trust.pin_sha256))


def ca_file_trust(path: str | os.PathLike[str]) -> Trust:
    """Trust for a CA file the user named: it must exist and hold PEM certificates.

    The path is stored absolute but not resolved, so a symlink the system updates (as in
    /etc/ssl/certs) keeps working.
    """
    absolute = os.path.abspath(os.path.expanduser(os.fspath(path)))
    if not os.path.isfile(absolute):
        raise InvalidInput(f"CA file {absolute} does not exist (or is not a file)")
    try:
        with open(absolute, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise InvalidInput(f"CA file {absolute} cannot be read ({exc.strerror})") from None
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise InvalidInput(f"CA file {absolute} holds no PEM certificate ('-----BEGIN ...')")
    try:
        ssl.create_default_context(purpose=ssl.Purpose.SERVER_AUTH).load_verify_locations(
            cadata=data.decode("ascii", errors="replace")
        )
    except (ssl.SSLError, ValueError):
        raise InvalidInput(f"CA file {absolute} is not a valid PEM certificate file") from None
    return Trust(mode="ca-file", ca_file=absolute)


# --- the list --------------------------------------------------------------------------------


@dataclass(frozen=True, init=False)
class ConnectionList:
    """An immutable, always-valid list of connections (see the module docstring for the rules)."""

    connections: tuple[Connection, ...]
    last_used: str | None

    def __init__(
        self, connections: Iterable[Connection] = (), last_used: str | None = None
    ) -> None:
        items = tuple(_validated(c) for c in connections)
        _check_invariants(items)
        if last_used is not None:
            found = _find(items, last_used)
            if found is None:
                raise UnknownConnection(last_used)
            last_used = found.name
        object.__setattr__(self, "connections", items)
        object.__setattr__(self, "last_used", last_used)

    def __len__(self) -> int:
        return len(self.connections)

    def __iter__(self) -> Iterator[Connection]:
        return iter(self.connections)

    def __bool__(self) -> bool:
        return bool(self.connections)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.find(name) is not None

    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.connections)

    def find(self, name: str) -> Connection | None:
        return _find(self.connections, name)

    def get(self, name: str) -> Connection:
        found = self.find(name)
        if found is None:
            raise UnknownConnection(name.strip())
        return found

    def default(self) -> Connection | None:
        return next((c for c in self.connections if c.default), None)

    def preferred(self) -> Connection | None:
        """The connection to use when none is named: the last used one, else the default."""
        if self.last_used is not None:
            return self.get(self.last_used)
        return self.default()

    def add(
        self,
        name: str,
        url: str,
        login: str,
        *,
        kind: str = DEFAULT_KIND,
        trust: Trust | None = None,
        make_default: bool = False,
    ) -> ConnectionList:
        """A new list with one more connection (the default if it is the first)."""
        new = Connection(
            name=_check_name(name),
            url=normalise_url(url),
            login=_check_login(login),
            kind=_check_kind(kind),
            trust=_check_trust(trust or Trust()),
            default=make_default or not self.connections,
        )
        if self.find(new.name) is not None:
            raise DuplicateName(
                f"a server named {self.get(new.name).name!r} already exists "
                "(names ignore case): choose another name"
            )
        items = self.connections
        if new.default:
            items = tuple(replace(c, default=False) for c in items)
        return ConnectionList((*items, new), self.last_used)

    def edit(
        self,
        name: str,
        *,
        new_name: str | None = None,
        url: str | None = None,
        login: str | None = None,
        kind: str | None = None,
        trust: Trust | None = None,
    ) -> ConnectionList:
        """A new list where the named connection has the given fields changed (None: unchanged)."""
        old = self.get(name)
        changed = replace(
            old,
            name=old.name if new_name is None else _check_name(new_name),
            url=old.url if url is None else normalise_url(url),
            login=old.login if login is None else _check_login(login),
            kind=old.kind if kind is None else _check_kind(kind),
            trust=old.trust if trust is None else _check_trust(trust),
        )
        clash = self.find(changed.name)
        if clash is not None and clash is not old:
            raise DuplicateName(
                f"a server named {clash.name!r} already exists (names ignore case): "
                "choose another name"
            )
        items = tuple(changed if c is old else c for c in self.connections)
        last_used = changed.name if self.last_used == old.name else self.last_used
        return ConnectionList(items, last_used)

    def remove(self, name: str) -> ConnectionList:
        """A new list without the named connection; the default only goes when it is the last."""
        old = self.get(name)
        if old.default and len(self.connections) > 1:
            raise DefaultProtected(
                f"{old.name!r} is the default server and cannot be removed: choose another "
                "default first ('vms-tray servers default NAME')"
            )
        items = tuple(c for c in self.connections if c is not old)
        last_used = None if self.last_used == old.name else self.last_used
        return ConnectionList(items, last_used)

    def set_default(self, name: str) -> ConnectionList:
        chosen = self.get(name)
        items = tuple(replace(c, default=c is chosen) for c in self.connections)
        return ConnectionList(items, self.last_used)

    def with_last_used(self, name: str | None) -> ConnectionList:
        """A new list remembering ``name`` (None: forget) as the last used connection."""
        return ConnectionList(self.connections, name)

    def replaced(
        self, rows: Iterable[tuple[str | None, Connection]]
    ) -> tuple[ConnectionList, ListChanges]:
        """The list an editor's table describes, and what it renamed and removed.

        Each row is (the name the connection has in this list, or None for a new one; the
        connection as edited). ``last_used`` follows a rename and goes with a removal (names
        ignore case, as everywhere). A row naming a connection this list lacks is a new one.
        """
        rows = list(rows)
        renamed: dict[str, str] = {}
        kept: set[str] = set()
        for original, c in rows:
            before = self.find(original) if original is not None else None
            if before is None:
                continue
            kept.add(name_key(before.name))
            if before.name != c.name.strip():
                renamed[before.name] = c.name.strip()
        removed = tuple(c.name for c in self.connections if name_key(c.name) not in kept)
        new = ConnectionList(c for _o, c in rows)
        last_used = self.last_used
        if last_used is not None:
            last_used = renamed.get(last_used, last_used)
            if new.find(last_used) is not None and last_used not in removed:
                new = new.with_last_used(last_used)
        return new, ListChanges(renamed, removed)


@dataclass(frozen=True)
class ListChanges:
    """What a change to the list did to names, for what is keyed by them (stored passwords)."""

    renamed: Mapping[str, str]  # old name -> new name
    removed: tuple[str, ...] = ()


def _find(items: tuple[Connection, ...], name: str) -> Connection | None:
    key = name_key(name)
    return next((c for c in items if name_key(c.name) == key), None)


def _validated(c: Connection) -> Connection:
    return replace(
        c,
        name=_check_name(c.name),
        url=normalise_url(c.url),
        login=_check_login(c.login),
        kind=_check_kind(c.kind),
        trust=_check_trust(c.trust),
    )


def _check_invariants(items: tuple[Connection, ...]) -> None:
    seen: dict[str, str] = {}
    for c in items:
        key = name_key(c.name)
        if key in seen:
            raise DuplicateName(
                f"two servers are named {seen[key]!r} and {c.name!r} (names ignore case)"
            )
        seen[key] = c.name
    defaults = sum(c.default for c in items)
    if items and defaults != 1:
        raise InvalidInput(
            f"{defaults} servers are marked as the default; exactly one must be"
            if defaults
            else "no server is marked as the default; exactly one must be"
        )


# --- TOML mapping ----------------------------------------------------------------------------

_CONNECTION_KEYS = {"name", "url", "login", "kind", "default", "trust"}
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
        entries.append(
            {
                "name": c.name,
                "url": c.url,
                "login": c.login,
                "kind": c.kind,
                "default": c.default,
                "trust": trust,
            }
        )
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
        if mode not in _TRUST_MODES:
            raise _Bad(f"{where}: unknown trust mode {mode!r} (system, ca-file or pinned)")
        trust = Trust(
            mode=cast(TrustMode, mode),
            ca_file=_optional_str(trust_raw, "ca_file", f"{where} trust"),
            pin_sha256=_optional_str(trust_raw, "pin_sha256", f"{where} trust"),
        )
        try:
            items.append(
                _validated(
                    Connection(
                        name=_field(raw, "name", str, where),
                        url=_field(raw, "url", str, where),
                        login=_field(raw, "login", str, where),
                        kind=_field(raw, "kind", str, where, default=DEFAULT_KIND),
                        default=bool(_field(raw, "default", bool, where, default=False)),
                        trust=trust,
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
        try:
            data = safefs.read_regular(self.path, MAX_FILE)
        except FileNotFoundError:
            return ConnectionList()
        except safefs.UnsafePath as exc:
            raise ConfigError(self.path, f"it {exc.problem}") from None
        except OSError as exc:
            raise ConfigError(self.path, f"cannot read it ({exc.strerror or exc})") from None
        return _parse(self.path, data)

    def get(self, name: str) -> Connection:
        """Shorthand for ``load().get(name)``."""
        return self.load().get(name)

    def default(self) -> Connection | None:
        """Shorthand for ``load().default()``."""
        return self.load().default()

    def set_last_used(self, name: str | None) -> ConnectionList:
        """Remember the connection the daemon used last (None: forget); through ``update``."""
        return self.update(lambda lst: lst.with_last_used(name))

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
                _fsync_dir(self.path.parent)
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

    def _temp_prefix(self, target: Path) -> str:
        return f".{target.name}."

    def _remove_stale_temps(self) -> None:
        # Only a lock holder creates temporary files, and we hold the lock: any left is from a
        # writer that died.
        target = self._target()
        for stale in target.parent.glob(f"{self._temp_prefix(target)}*.tmp"):
            with contextlib.suppress(OSError):
                stale.unlink()

    def _write(self, lst: ConnectionList) -> None:
        target = self._target()
        data = _dump(lst)
        try:
            fd, tmp = tempfile.mkstemp(
                prefix=self._temp_prefix(target), suffix=".tmp", dir=target.parent
            )
        except OSError as exc:
            raise ConfigWriteError(
                f"cannot write {target} ({exc.strerror or exc}): nothing was changed"
            ) from None
        try:
            try:
                # mkstemp made it 0600 (O_EXCL): the rename gives the config that mode too.
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise ConfigWriteError(
                f"cannot write {target} ({exc.strerror or exc}): nothing was changed"
            ) from None
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _fsync_dir(target.parent)


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable; a no-op where directories cannot be opened (Windows)."""
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
