"""The rules of the server list: an immutable, always-valid ``ConnectionList``.

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
        .replaced(rows) -> (new list, ListChanges)   what an editor's table describes

    validated(connection) -> Connection          one connection checked and canonicalised
    ca_file_trust(path) -> Trust                 checks a readable PEM CA file; absolute path
    name_key(name) -> str                        the case-insensitive identity of a name

Rules (those of the client vms-tray follows): names are trimmed, non-empty and unique ignoring
case; URLs are normalised https URLs (:mod:`vms_tray.urls`); the first connection added becomes
the default; a non-empty list always has exactly one default; the default cannot be removed while
other connections exist (choose another default first) — the sole connection can be removed.
Every method validates and returns a new list or raises an :class:`~vms_tray.errors.InvalidInput`
(or :class:`~vms_tray.errors.UnknownConnection`); the list it was called on never changes.
Storing the list is :mod:`vms_tray.connections.store`'s business.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import get_args

from vms_tray.connections.model import (
    DEFAULT_KIND,
    KNOWN_KINDS,
    Connection,
    Trust,
    TrustMode,
    normalize_fingerprint,
)
from vms_tray.errors import (
    DefaultProtected,
    DuplicateName,
    InvalidInput,
    InvalidName,
    ManagedConnection,
    UnknownConnection,
)
from vms_tray.urls import normalise_url

__all__ = [
    "CLIENT_TYPE",
    "TRUST_MODES",
    "ConnectionList",
    "ListChanges",
    "ca_file_trust",
    "name_key",
    "validated",
]

MAX_NAME = 100
TRUST_MODES: tuple[str, ...] = get_args(TrustMode)


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


# A header token (AIPIX's X-Client values: thick-legal, web, android-cctv, ...); the AIPIX kind
# checks the value it sends with it too.
CLIENT_TYPE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _check_client_type(value: str | None) -> str | None:
    """``value`` as a client type, None for none ("" clears one)."""
    if value is None or value == "":
        return None
    if not CLIENT_TYPE.fullmatch(value):
        raise InvalidInput(
            f"{value!r} is not a client type: 1 to 64 letters, digits, '.', '_' or '-' "
            "(such as thick-legal or web)"
        )
    return value


def _check_trust(trust: Trust) -> Trust:
    if trust.mode not in TRUST_MODES:
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
    return Trust(mode="pinned", pin_sha256=normalize_fingerprint(trust.pin_sha256))


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
    # Imported here: only a CA file being checked needs ssl, and the CLI's start need not pay
    # for it (issue 13).
    import ssl

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
        items = tuple(validated(c) for c in connections)
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
        client_type: str | None = None,
    ) -> ConnectionList:
        """A new list with one more connection (the default if it is the first)."""
        new = Connection(
            name=_check_name(name),
            url=normalise_url(url),
            login=_check_login(login),
            kind=_check_kind(kind),
            trust=_check_trust(trust or Trust()),
            default=make_default or not self.connections,
            client_type=_check_client_type(client_type),
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
        client_type: str | None = None,
    ) -> ConnectionList:
        """A new list where the named connection has the given fields changed (None: unchanged;
        ``client_type=""`` clears it). A managed connection refuses (ManagedConnection)."""
        old = _own(self.get(name))
        changed = replace(
            old,
            name=old.name if new_name is None else _check_name(new_name),
            url=old.url if url is None else normalise_url(url),
            login=old.login if login is None else _check_login(login),
            kind=old.kind if kind is None else _check_kind(kind),
            trust=old.trust if trust is None else _check_trust(trust),
            client_type=old.client_type if client_type is None else _check_client_type(client_type),
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
        """A new list without the named connection; the default only goes when it is the last.
        A managed connection refuses (ManagedConnection)."""
        old = _own(self.get(name))
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


def _own(c: Connection) -> Connection:
    if c.managed_by is not None:
        raise ManagedConnection(c.name, c.managed_by)
    return c


def _find(items: tuple[Connection, ...], name: str) -> Connection | None:
    key = name_key(name)
    return next((c for c in items if name_key(c.name) == key), None)


def validated(c: Connection) -> Connection:
    """``c`` with every field checked and in its canonical form (InvalidInput otherwise)."""
    return replace(
        c,
        name=_check_name(c.name),
        url=normalise_url(c.url),
        login=_check_login(c.login),
        kind=_check_kind(c.kind),
        trust=_check_trust(c.trust),
        client_type=_check_client_type(c.client_type),
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
