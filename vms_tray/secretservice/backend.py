"""A keyring backend for the freedesktop Secret Service (gnome-keyring, KWallet, KeePassXC) on
jeepney, the D-Bus library keyring already brings.

    SecretServiceKeyring()            a keyring.backend.KeyringBackend: get_password,
                                      set_password, delete_password, and has_password (not
                                      keyring's: whether one is stored); ``priority`` raises
                                      RuntimeError where no Secret Service runs or can start
        .algorithms                   the transfer algorithms offered, in order (DH, then plain
                                      where a service has no DH)

Why not keyring's own ``keyring.backends.SecretService``: it goes through secretstorage, which
imports ``cryptography`` (its Rust extension and its own OpenSSL, about 9 MB resident) for one
AES-128 decryption per password; this one uses vms_tray.secretservice.transfer. Items are the
same: the same attributes (``service``, ``username``, ``application``), label and content type,
in the default collection, so an entry written by either backend is read by the other (the
integration tests check it both ways) and an upgrade loses nothing.

Every call goes over the process's one connection to the Secret Service (vms_tray.secretservice.bus:
why one, and how a restarted keyring daemon is found again). Calls wait at most CALL_TIMEOUT; a
prompt (unlock the collection, confirm a change) waits for the person at most PROMPT_TIMEOUT,
then the call fails as KeyringLocked. D-Bus errors surface as keyring.errors (InitError,
KeyringLocked, PasswordDeleteError) or as jeepney's DBusErrorResponse; vms_tray.credentials turns
each into one line that says what to do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from jeepney import DBusAddress, DBusErrorResponse, MatchRule, Properties
from jeepney.bus_messages import message_bus
from keyring.backend import KeyringBackend, SchemeSelectable
from keyring.compat import properties
from keyring.errors import InitError, KeyringLocked, PasswordDeleteError

from vms_tray.secretservice import bus
from vms_tray.secretservice.bus import API as _API
from vms_tray.secretservice.bus import BUS_NAME, CALL_TIMEOUT, SERVICE_PATH, body
from vms_tray.secretservice.transfer import ALGORITHM_DH, ALGORITHM_PLAIN, Transfer

__all__ = ["CALL_TIMEOUT", "PROMPT_TIMEOUT", "SecretServiceKeyring"]

T = TypeVar("T")

DEFAULT_COLLECTION = "/org/freedesktop/secrets/aliases/default"
NO_OBJECT = "/"
_NOT_FOUND = {
    "org.freedesktop.DBus.Error.UnknownMethod",
    "org.freedesktop.DBus.Error.UnknownObject",
    "org.freedesktop.Secret.Error.NoSuchObject",
}
_IS_LOCKED = "org.freedesktop.Secret.Error.IsLocked"

PROMPT_TIMEOUT = 300.0  # someone typing the keyring's password, or confirming a change


class _Call:
    """One backend call over the shared link: the default collection, found (and unlocked)
    afresh each time, as the person may lock it while we run."""

    def __init__(self, link: bus.Link, algorithms: tuple[str, ...]) -> None:
        self._link = link
        self._algorithms = algorithms
        self.collection = self._default_collection()

    @property
    def transfer(self) -> Transfer:
        return self._link.transfer(self._algorithms)

    def call(self, path: str, interface: str, method: str, signature: str = "", *args: Any) -> Any:
        try:
            return self._link.call(path, interface, method, signature, *args)
        except DBusErrorResponse as exc:
            if exc.name == _IS_LOCKED:
                raise KeyringLocked("the keyring collection is locked") from None
            raise

    def locked(self, path: str, interface: str) -> bool:
        address = DBusAddress(path, BUS_NAME, _API + interface)
        ((_signature, value),) = body(self._link.connection, Properties(address).get("Locked"))
        return bool(value)

    def _default_collection(self) -> str:
        try:
            locked = self.locked(DEFAULT_COLLECTION, "Collection")
        except DBusErrorResponse as exc:
            if exc.name not in _NOT_FOUND:
                raise
            self._create_default_collection()
            locked = self.locked(DEFAULT_COLLECTION, "Collection")
        if locked:
            self.unlock(DEFAULT_COLLECTION, "Collection")
        return DEFAULT_COLLECTION

    def _create_default_collection(self) -> None:
        label = {_API + "Collection.Label": ("s", "Default")}
        created, prompt = self.call(
            SERVICE_PATH, "Service", "CreateCollection", "a{sv}s", label, "default"
        )
        if created == NO_OBJECT and self.prompt(prompt):
            raise InitError("creating the default keyring collection was cancelled")

    def unlock(self, path: str, interface: str) -> None:
        _unlocked, prompt = self.call(SERVICE_PATH, "Service", "Unlock", "ao", [path])
        if prompt != NO_OBJECT:
            self.prompt(prompt)
        if self.locked(path, interface):
            raise KeyringLocked("the keyring stays locked: its unlock prompt was dismissed")

    def prompt(self, path: str) -> bool:
        """Show a Secret Service prompt and wait for the person; True if they dismissed it."""
        rule = MatchRule(type="signal", interface=_API + "Prompt", member="Completed", path=path)
        connection = self._link.connection
        body(connection, message_bus.AddMatch(rule))
        try:
            with connection.filter(rule) as completed:
                self.call(path, "Prompt", "Prompt", "s", "")
                try:
                    signal = connection.recv_until_filtered(completed, timeout=PROMPT_TIMEOUT)
                except TimeoutError:
                    with contextlib.suppress(DBusErrorResponse, TimeoutError):
                        self.call(path, "Prompt", "Dismiss")
                    raise KeyringLocked(
                        f"no answer to the keyring's prompt within {PROMPT_TIMEOUT:.0f} s"
                    ) from None
        finally:
            # the link outlives this call: no rule may pile up on it
            with contextlib.suppress(DBusErrorResponse, OSError):
                body(connection, message_bus.RemoveMatch(rule))
        dismissed, _result = signal.body
        return bool(dismissed)

    def items(self, attributes: dict[str, str]) -> list[str]:
        paths: list[str] = self.call(
            self.collection, "Collection", "SearchItems", "a{ss}", attributes
        )[0]
        return paths


class SecretServiceKeyring(SchemeSelectable, KeyringBackend):
    """Passwords in the Secret Service's default collection (see the module docstring)."""

    # keyring's own backend marks its items so; the same mark keeps them one set of entries
    appid = "Python keyring library"
    # the transfer algorithms to offer, best first (libsecret's and secretstorage's order)
    algorithms: tuple[str, ...] = (ALGORITHM_DH, ALGORITHM_PLAIN)

    @properties.classproperty
    def priority(cls) -> float:
        try:
            with contextlib.closing(bus.open_session_bus()) as connection:
                running = body(connection, message_bus.NameHasOwner(BUS_NAME))[0]
                if (
                    not running
                    and BUS_NAME not in body(connection, message_bus.ListActivatableNames())[0]
                ):
                    raise RuntimeError("no Secret Service is running or can be started on D-Bus")
        except (InitError, DBusErrorResponse, TimeoutError, OSError) as exc:
            raise RuntimeError(
                f"the D-Bus session bus did not answer ({type(exc).__name__})"
            ) from None
        return 5  # keyring's own Secret Service backend's

    def _run(self, operation: Callable[[_Call], T]) -> T:
        return bus.run(self.algorithms, lambda link: operation(_Call(link, self.algorithms)))

    @contextlib.contextmanager
    def _call(self) -> Iterator[_Call]:
        """A call held open (for tests that look inside one)."""
        yield self._run(lambda call: call)

    def get_password(self, service: str, username: str) -> str | None:
        def get(call: _Call) -> str | None:
            for item in call.items(self._query(service, username)):
                if call.locked(item, "Item"):
                    call.unlock(item, "Item")
                secret = call.call(item, "Item", "GetSecret", "o", call.transfer.session_path)[0]
                return call.transfer.unwrap(secret).decode("utf-8")
            return None

        return self._run(get)

    def has_password(self, service: str, username: str) -> bool:
        """Whether a password is stored, without reading it (no decryption);
        vms_tray.credentials uses it for ``has``."""
        return self._run(lambda call: bool(call.items(self._query(service, username))))

    def set_password(self, service: str, username: str, password: str) -> None:
        attributes = self._query(service, username, application=self.appid)
        item = {
            _API + "Item.Label": ("s", f"Password for '{username}' on '{service}'"),
            _API + "Item.Attributes": ("a{ss}", attributes),
        }

        def store(call: _Call) -> None:
            secret = call.transfer.wrap(password.encode("utf-8"))
            created, prompt = call.call(
                call.collection, "Collection", "CreateItem", "a{sv}(oayays)b", item, secret, True
            )
            if created == NO_OBJECT and call.prompt(prompt):
                raise KeyringLocked("storing the password was cancelled at the keyring's prompt")

        self._run(store)

    def delete_password(self, service: str, username: str) -> None:
        def delete(call: _Call) -> None:
            for item in call.items(self._query(service, username)):
                (prompt,) = call.call(item, "Item", "Delete")
                if prompt != NO_OBJECT and call.prompt(prompt):
                    raise KeyringLocked(
                        "deleting the password was cancelled at the keyring's prompt"
                    )
                return
            raise PasswordDeleteError("No such password!")

        self._run(delete)
