"""Real implementations of the daemon's ports, and the one place that builds a Daemon."""

from __future__ import annotations

from collections.abc import Sequence

from vms_tray.app.logs import REDACTOR
from vms_tray.connections.model import Connection
from vms_tray.connections.store import ConnectionStore
from vms_tray.credentials import Credentials, open_credentials
from vms_tray.daemon.clock import SystemClock
from vms_tray.daemon.ports import Passwords
from vms_tray.daemon.scheduler import ApsScheduler
from vms_tray.daemon.settings import DaemonSettings
from vms_tray.daemon.worker import Daemon
from vms_tray.errors import UnknownConnection
from vms_tray.kinds import create_server, default_client_info
from vms_tray.kinds.base import ServerKind
from vms_tray.notify.base import Notifier


class StoreConnections:
    """The connection list on disk, read afresh each time (the CLI may have changed it)."""

    def __init__(self, store: ConnectionStore | None = None) -> None:
        self._store = store or ConnectionStore()

    def get(self, name: str) -> Connection:
        return self._store.load().get(name)

    def initial(self) -> Connection | None:
        lst = self._store.load()
        try:
            return lst.preferred()
        except UnknownConnection:  # last_used names a removed connection
            return lst.default()

    def all(self) -> Sequence[Connection]:
        return tuple(self._store.load())

    def mark_used(self, name: str) -> None:
        self._store.update(lambda lst: lst.with_last_used(name))


class KeyringPasswords:
    def __init__(self, credentials: Credentials | None = None) -> None:
        self._credentials = credentials or open_credentials()

    @property
    def persistent(self) -> bool:
        return self._credentials.persistent

    def get(self, connection: Connection) -> str | None:
        return self._credentials.get(connection.name)

    def set(self, connection: Connection, password: str) -> None:
        self._credentials.set(connection.name, password)


def _factory(connection: Connection, timeout: float) -> ServerKind:
    return create_server(connection, timeout=timeout)


def build_daemon(
    notifier: Notifier, settings: DaemonSettings, passwords: Passwords | None = None
) -> Daemon:
    return Daemon(
        connections=StoreConnections(),
        passwords=passwords or KeyringPasswords(),
        server_factory=_factory,
        notifier=notifier,
        scheduler=ApsScheduler(),
        clock=SystemClock(),
        client_info=default_client_info(),
        settings=settings,
        on_secret=REDACTOR.add,
    )
