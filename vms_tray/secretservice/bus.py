"""The process's one D-Bus connection to the Secret Service, and the transfer sessions on it.

    run(algorithms, operation) -> T      ``operation(Link)`` on the shared connection, one caller
                                         at a time; once more on a new connection if the
                                         Secret Service went away meanwhile (restarted, crashed)
    Link                                 the connection: .call, .transfer(algorithms)
    body(connection, message)            a reply's body, or DBusErrorResponse
    CALL_TIMEOUT

Why one connection, and why OpenSession first: gnome-keyring-daemon (42 here, 50 too) admits a
new client from an idle callback its message filter schedules, and a message handled before
that callback ran finds no client record and aborts the whole daemon (SIGABRT; every keyring of
the desktop is then locked until the person types their password into the restarted one).
A connection per call (what keyring's own backend does) loses that race within seconds when
several threads read at once, above all when the first message is a property read (measured:
four threads asking whether a password is stored killed the daemon in 1-2 s; see
tests/integration/secretservice/test_bus.py). So each process opens one connection, its first
message is OpenSession (the call secretstorage opens with, which never lost the race here), and
every later call goes over it.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from jeepney import DBusAddress, DBusErrorResponse, Message, MessageType, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from keyring.errors import InitError

from vms_tray.secretservice.transfer import ALGORITHM_PLAIN, Transfer, offer

__all__ = ["BUS_NAME", "CALL_TIMEOUT", "Link", "body", "run"]

BUS_NAME = "org.freedesktop.secrets"
SERVICE_PATH = "/org/freedesktop/secrets"
API = "org.freedesktop.Secret."  # the interfaces' prefix
CALL_TIMEOUT = 25.0  # D-Bus's own default for a method reply
_NOT_SUPPORTED = "org.freedesktop.DBus.Error.NotSupported"

T = TypeVar("T")


def body(connection: DBusConnection, message: Message) -> Any:
    reply = connection.send_and_get_reply(message, timeout=CALL_TIMEOUT)
    if reply.header.message_type == MessageType.error:
        raise DBusErrorResponse(reply)
    return reply.body


def open_session_bus() -> DBusConnection:
    try:
        return open_dbus_connection(bus="SESSION")
    except (KeyError, OSError, ValueError) as exc:  # KeyError: DBUS_SESSION_BUS_ADDRESS unset
        raise InitError(f"no D-Bus session bus ({type(exc).__name__})") from None


class Link:
    """One connection to the session bus, the transfer sessions opened on it (one per list of
    algorithms: the contract tests run both), and which process served the first of them."""

    def __init__(self, address: str | None) -> None:
        self.address = address
        self.connection = open_session_bus()
        self._transfers: dict[tuple[str, ...], Transfer] = {}
        self.owner: str | None = None  # the Secret Service's unique bus name when first asked

    def call(self, path: str, interface: str, method: str, signature: str = "", *args: Any) -> Any:
        address = DBusAddress(path, BUS_NAME, API + interface)
        return body(self.connection, new_method_call(address, method, signature, args))

    def transfer(self, algorithms: tuple[str, ...]) -> Transfer:
        if algorithms not in self._transfers:
            self._transfers[algorithms] = self._open_session(algorithms)
            if self.owner is None:
                self.owner = self._owner_now()
        return self._transfers[algorithms]

    def went_away(self) -> bool:
        """Whether the Secret Service that answered first is gone (or this connection is)."""
        try:
            return self.owner is None or self._owner_now() != self.owner
        except (DBusErrorResponse, OSError):
            return True

    def close(self) -> None:
        self.connection.close()

    def _owner_now(self) -> str:
        owner: str = body(self.connection, message_bus.GetNameOwner(BUS_NAME))[0]
        return owner

    def _open_session(self, algorithms: tuple[str, ...]) -> Transfer:
        for algorithm in algorithms[:-1]:
            try:
                return self._open_session_with(algorithm)
            except DBusErrorResponse as exc:
                if exc.name != _NOT_SUPPORTED:
                    raise
        return self._open_session_with(algorithms[-1])

    def _open_session_with(self, algorithm: str) -> Transfer:
        if algorithm == ALGORITHM_PLAIN:
            _output, path = self.call(
                SERVICE_PATH, "Service", "OpenSession", "sv", algorithm, ("s", "")
            )
            return Transfer(path)
        ours = offer()
        (_signature, theirs), path = self.call(
            SERVICE_PATH, "Service", "OpenSession", "sv", algorithm, ("ay", ours.public)
        )
        return Transfer(path, ours.key_with(bytes(theirs)))


_lock = threading.Lock()  # one caller at a time: a jeepney connection is not thread-safe
_shared: Link | None = None


def _link() -> tuple[Link, bool]:
    """The shared link (a new one where the session bus changed: tests switch buses); True if
    it was opened just now."""
    global _shared
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    if _shared is not None and _shared.address == address:
        return _shared, False
    _drop()
    _shared = Link(address)
    return _shared, True


def _drop() -> None:
    global _shared
    if _shared is not None:
        with contextlib.suppress(OSError):
            _shared.close()
        _shared = None


def run(algorithms: tuple[str, ...], operation: Callable[[Link], T]) -> T:
    with _lock:
        while True:  # at most twice: a retry is always on a new link, and a new one never retries
            link, new = _link()
            try:
                if new:
                    link.transfer(algorithms)  # OpenSession first: see the module docstring
                return operation(link)
            except TimeoutError:  # a Secret Service that hangs is not asked twice
                _drop()
                raise
            except OSError:  # the connection broke: its state is unknown
                _drop()
                if new:
                    raise
            except DBusErrorResponse:
                if new or not link.went_away():
                    raise
                _drop()
