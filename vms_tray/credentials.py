"""Passwords of server connections: in a secure OS keyring, or only in this process's memory.

The API other modules use::

    SERVICE = "vms-tray"                        the keyring service name of every entry
    credential_key(name) -> str                 the entry's user name: the connection name,
                                                trimmed and case-folded (names ignore case)
    is_secure_backend(backend) -> bool          the policy, as a question
    secure_backend(backend=None) -> KeyringBackend
                                                the policy: the given backend (default: what
                                                keyring.get_keyring() would choose, see below)
                                                if it is secure, else NoSecureKeyring saying
                                                what to do
    open_credentials(backend=None) -> Credentials
                                                for the daemon: a keyring-backed store, or, with
                                                no secure keyring, a memory-only one whose
                                                ``warning`` says so (the user is asked each time)
    Credentials(backend: KeyringBackend | None)  None: memory only, for this process's lifetime
        .persistent -> bool                     True when passwords survive the process
        .warning -> str | None                  why passwords are not remembered, if they are not
        .get(name) -> str | None
        .has(name) -> bool
        .set(name, password) -> None            InvalidInput for an empty password
        .forget(name) -> bool                   True if a password was removed
        .rename(old, new) -> None               moves the entry when a connection is renamed
    follow_changes(changes, credentials=None) -> tuple[str, ...]
                                                keep the keyring in step with a change to the
                                                server list (CLI and tray): renamed entries move,
                                                removed ones are forgotten

The default backend on Linux is chosen directly, without keyring's discovery, when the answer is
known to be Secret Service: no ``PYTHON_KEYRING_BACKEND`` and no ``keyringrc.cfg`` (a user's
choice), no keyring backend from another package, no python-dbus (so KWallet, which could outrank
it, is not viable), and a Secret Service that answers. Discovery imports every backend to rank
them: that loads PyGObject and libsecret (GLib, GObject) into every process that reads a
password, for a backend ranked below Secret Service, about 16 MB resident and 150 ms at each
start (bench/tray_bench.py, issue 13). The backend chosen so is vms_tray.secretservice's, which
reads and writes the same entries as keyring's own without loading ``cryptography`` (about 9 MB
more; see that package). Anything else is left to ``keyring.get_keyring()``.

Passwords never reach the config file, logs, command lines or exception messages. Insecure
backends are refused: keyrings.alt (plaintext and "encrypted" files; vms-tray does not depend on
it), keyring's ``fail`` and ``null`` backends, and a chainer with nothing else in it. Every error
the backend raises (a locked keyring, a D-Bus failure) becomes a one-line CredentialError.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from collections.abc import Callable
from typing import TypeVar

if sys.platform != "darwin":
    # keyring imports every backend to rank them, and its macOS one calls
    # ctypes.util.find_library at import: on Linux that runs ldconfig, gcc and ld (three
    # compiler runs at every daemon start). A None entry makes that import fail, which
    # keyring expects off macOS (the backend then reports itself unavailable).
    sys.modules.setdefault("keyring.backends.macOS.api", None)  # type: ignore[arg-type]

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends.chainer import ChainerBackend
from keyring.compat.py312 import metadata
from keyring.util import platform_

from vms_tray.connections.rules import ListChanges, name_key
from vms_tray.errors import CredentialError, InvalidInput, NoSecureKeyring
from vms_tray.text import command_line

__all__ = [
    "DEVICE_SERVICE",
    "SERVICE",
    "SESSION_SERVICE",
    "Credentials",
    "credential_key",
    "follow_changes",
    "is_secure_backend",
    "open_credentials",
    "secure_backend",
]

SERVICE = "vms-tray"
# What the daemon remembers of an account between runs (vms_tray.daemon.memory), keyed by
# "login@url": the session it holds (tokens as JSON; a start after a crash resumes it instead of
# taking a second seat) and the server's device token (protocol v1 "Throttling").
SESSION_SERVICE = "vms-tray-session"
DEVICE_SERVICE = "vms-tray-device"

log = logging.getLogger(__name__)

_INSECURE_PACKAGES = ("keyrings.alt",)
_INSECURE_CLASSES = {
    ("keyring.backends.fail", "Keyring"),
    ("keyring.backends.null", "Keyring"),
}
_HOW_TO_GET_ONE = (
    "start a secure keyring (GNOME Keyring or KWallet on Linux; macOS Keychain and Windows "
    "Credential Locker work out of the box)"
)

T = TypeVar("T")


def credential_key(name: str) -> str:
    """The keyring user name of a connection's entry: stable across changes of letter case."""
    return name_key(name)


def _class_name(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _members(backend: KeyringBackend) -> list[KeyringBackend] | None:
    """The backends a chainer delegates to, or None when ``backend`` is not a chainer."""
    if not isinstance(backend, ChainerBackend):
        return None
    members: list[KeyringBackend] = list(backend.backends)
    return members


def _insecure_leaf(backend: object) -> bool:
    cls = type(backend)
    module = cls.__module__
    if any(module == p or module.startswith(p + ".") for p in _INSECURE_PACKAGES):
        return True
    return (module, cls.__qualname__) in _INSECURE_CLASSES


def is_secure_backend(backend: KeyringBackend) -> bool:
    """Whether vms-tray may keep passwords in ``backend`` (see the module docstring)."""
    members = _members(backend)
    if members is None:
        return not _insecure_leaf(backend)
    return any(not _insecure_leaf(m) and _members(m) is None for m in members)


# keyring's own backends (its entry points); any other package's may outrank Secret Service.
_KEYRING_OWN = "keyring.backends."


def _secret_service_directly() -> KeyringBackend | None:
    """Secret Service where keyring's discovery would choose it too (see the module docstring);
    None: ask keyring."""
    if not sys.platform.startswith("linux") or "PYTHON_KEYRING_BACKEND" in os.environ:
        return None
    if (platform_.config_root() / "keyringrc.cfg").exists():
        return None
    if importlib.util.find_spec("dbus") is not None:
        return None  # KWallet may be viable, and ranks above Secret Service on KDE
    entry_points = metadata.entry_points(group="keyring.backends")
    if any(not ep.value.startswith(_KEYRING_OWN) for ep in entry_points):
        return None
    # here: Linux only (jeepney is a Linux-only dependency)
    from vms_tray.secretservice.backend import SecretServiceKeyring

    try:
        SecretServiceKeyring.priority  # noqa: B018 - raises where it is not viable
    except RuntimeError:  # no D-Bus, no Secret Service; discovery says what else
        return None
    chosen: KeyringBackend = SecretServiceKeyring()  # type: ignore[no-untyped-call]
    return chosen


def secure_backend(backend: KeyringBackend | None = None) -> KeyringBackend:
    """The keyring to keep passwords in, after the security policy; raises NoSecureKeyring.

    A chainer is replaced by its highest-priority secure member, so a write can never fall
    through to an insecure one.
    """
    if backend is None:
        try:
            backend = _secret_service_directly()
            if backend is None:
                backend = keyring.get_keyring()
        except Exception as exc:  # a broken keyring configuration must not crash the caller
            log.debug("loading the keyring backend failed: %s", type(exc).__name__)
            raise NoSecureKeyring(
                f"the system keyring could not be loaded ({type(exc).__name__}): "
                f"{_HOW_TO_GET_ONE}; until then passwords are asked for each time"
            ) from None
    members = _members(backend)
    if members is not None:
        secure = [m for m in members if not _insecure_leaf(m) and _members(m) is None]
        if secure:
            return secure[0]
    elif not _insecure_leaf(backend):
        return backend
    raise NoSecureKeyring(
        f"no secure keyring is available (found {_class_name(backend)}): {_HOW_TO_GET_ONE}; "
        "until then passwords are asked for each time"
    )


def _translate(exc: Exception, action: str) -> CredentialError:
    # Only the class name of a foreign error: its text is not ours to vouch for.
    log.debug("keyring failed to %s: %s", action, type(exc).__name__)
    if isinstance(exc, keyring.errors.KeyringLocked):
        return CredentialError(
            f"the system keyring is locked, so vms-tray could not {action}: unlock it (sign in "
            "to the desktop session or open your keyring app) and try again"
        )
    if isinstance(exc, keyring.errors.InitError | keyring.errors.NoKeyringError):
        return CredentialError(
            f"the system keyring could not open its password collection, so vms-tray could not "
            f"{action} ({type(exc).__name__}): make sure it is running and unlocked (sign in to "
            "the desktop session so it can ask you), then try again"
        )
    return CredentialError(
        f"the system keyring failed, so vms-tray could not {action} ({type(exc).__name__}): "
        "make sure it is running and unlocked, then try again"
    )


class Credentials:
    """Passwords by connection name; see the module docstring for the contract."""

    def __init__(self, backend: KeyringBackend | None, warning: str | None = None) -> None:
        self._backend = backend
        self._memory: dict[str, str] = {}
        self.warning = warning

    @property
    def persistent(self) -> bool:
        return self._backend is not None

    def _call(self, action: str, fn: Callable[[KeyringBackend], T]) -> T:
        assert self._backend is not None
        try:
            return fn(self._backend)
        except Exception as exc:
            raise _translate(exc, action) from None

    def get(self, name: str) -> str | None:
        key = credential_key(name)
        if self._backend is None:
            return self._memory.get(key)
        return self._call("read the password", lambda b: b.get_password(SERVICE, key))

    def has(self, name: str) -> bool:
        # A backend that can tell without reading the secret (vms_tray.secretservice's) is
        # asked so: the daemon answers `vms-tray servers list` with one call per server.
        has_password = getattr(self._backend, "has_password", None)
        if has_password is None:
            return self.get(name) is not None
        key = credential_key(name)
        found: bool = self._call("look up the password", lambda _b: has_password(SERVICE, key))
        return found

    def set(self, name: str, password: str) -> None:
        if not password:
            raise InvalidInput("the password is empty: type the password of the server account")
        key = credential_key(name)
        if self._backend is None:
            self._memory[key] = password
            return
        self._call("store the password", lambda b: b.set_password(SERVICE, key, password))

    def forget(self, name: str) -> bool:
        key = credential_key(name)
        if self._backend is None:
            return self._memory.pop(key, None) is not None
        if self.get(name) is None:
            return False
        self._call("forget the password", lambda b: b.delete_password(SERVICE, key))
        return True

    def kept(self, service: str, key: str) -> str | None:
        """What the daemon keeps under ``service`` (SESSION_SERVICE, DEVICE_SERVICE) for ``key``
        ("login@url"), None when nothing."""
        if self._backend is None:
            return self._memory.get(f"{service}\0{key}")
        return self._call("read the keyring", lambda b: b.get_password(service, key))

    def keep(self, service: str, key: str, value: str) -> None:
        if self._backend is None:
            self._memory[f"{service}\0{key}"] = value
            return
        self._call("write to the keyring", lambda b: b.set_password(service, key, value))

    def drop(self, service: str, key: str) -> None:
        if self._backend is None:
            self._memory.pop(f"{service}\0{key}", None)
            return
        if self.kept(service, key) is not None:
            self._call("delete from the keyring", lambda b: b.delete_password(service, key))

    def rename(self, old: str, new: str) -> None:
        """Move the password of connection ``old`` to ``new`` (nothing to do if none is stored)."""
        if credential_key(old) == credential_key(new):
            return
        password = self.get(old)
        if password is None:
            return
        self.set(new, password)
        self.forget(old)


def open_credentials(backend: KeyringBackend | None = None) -> Credentials:
    """Credentials in the secure keyring, or in memory (with a logged warning) without one."""
    try:
        return Credentials(secure_backend(backend))
    except NoSecureKeyring as exc:
        log.warning("%s", exc)
        return Credentials(None, warning=str(exc))


def follow_changes(changes: ListChanges, credentials: Credentials | None = None) -> tuple[str, ...]:
    """Move the passwords of renamed connections and forget those of removed ones; returns the
    names whose password was forgotten. ``credentials``: default the secure keyring; without
    one nothing can have been stored, so there is nothing to do.

    Raises CredentialError naming the step that failed and what to do about it.
    """
    if not changes.renamed and not changes.removed:
        return ()
    if credentials is None:
        try:
            credentials = Credentials(secure_backend())
        except NoSecureKeyring:
            return ()
    for old, new in changes.renamed.items():
        try:
            credentials.rename(old, new)
        except CredentialError as exc:
            raise CredentialError(
                f"renamed {old!r} to {new!r}, but its password could not be moved: {exc} "
                f"(or store it again: {command_line('password', 'set', new)})"
            ) from None
    forgotten = []
    for name in changes.removed:
        if credentials.forget(name):
            forgotten.append(name)
    return tuple(forgotten)
