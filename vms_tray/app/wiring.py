"""Real implementations of the daemon's ports, and the one place that builds a Daemon."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from vms_tray.app.logs import REDACTOR
from vms_tray.autostart import default_backend
from vms_tray.autostart.forced import ensure_enabled
from vms_tray.commands import CheckNow, StreamChanged
from vms_tray.connections.managed import visible
from vms_tray.connections.model import Connection
from vms_tray.connections.policy import load_policy
from vms_tray.connections.rules import ConnectionList
from vms_tray.connections.store import ConnectionStore
from vms_tray.credentials import DEVICE_SERVICE, SESSION_SERVICE, Credentials, open_credentials
from vms_tray.daemon.clock import SystemClock
from vms_tray.daemon.ports import Passwords
from vms_tray.daemon.scheduler import ApsScheduler
from vms_tray.daemon.settings import DaemonSettings
from vms_tray.daemon.worker import Daemon
from vms_tray.errors import UnknownConnection
from vms_tray.kinds import create_server, default_client_info
from vms_tray.kinds.base import ServerKind
from vms_tray.notify.base import Notifier
from vms_tray.session.records import Tokens

log = logging.getLogger(__name__)


class StoreConnections:
    """The connection list on disk (the user's and the administrator's), read afresh each time
    (the CLI may have changed it)."""

    def __init__(self, store: ConnectionStore | None = None) -> None:
        self._store = store or ConnectionStore()
        self._reported: str | None = None

    def _load(self) -> ConnectionList:
        view = visible(self._store)
        if view.managed.problem and view.managed.problem != self._reported:
            log.warning("%s", view.managed.problem)
        self._reported = view.managed.problem
        return view.list

    def get(self, name: str) -> Connection:
        return self._load().get(name)

    def initial(self) -> Connection | None:
        lst = self._load()
        try:
            return lst.preferred()
        except UnknownConnection:  # last_used names a removed connection
            return lst.default()

    def all(self) -> Sequence[Connection]:
        return tuple(self._load())

    def mark_used(self, name: str) -> None:
        if name not in self._store.load():
            return  # a managed server: the user's file can name only its own as last used
        self._store.update(lambda lst: lst.with_last_used(name))


class KeyringPasswords:
    def __init__(self, credentials: Credentials | None = None) -> None:
        self.credentials = credentials or open_credentials()

    @property
    def persistent(self) -> bool:
        return self.credentials.persistent

    def get(self, connection: Connection) -> str | None:
        return self.credentials.get(connection.name)

    def has(self, connection: Connection) -> bool:
        return self.credentials.has(connection.name)

    def set(self, connection: Connection, password: str) -> None:
        policy = load_policy()
        if policy.forbid_remember_password:
            log.info("not storing the password of %s: %s forbids it", connection.name, policy.path)
            return
        self.credentials.set(connection.name, password)


class KeyringMemory:
    """The daemon's Memory in the keyring, beside the passwords, under ``login@url`` (so a
    renamed connection still finds it): the session as JSON, and the device token."""

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials

    @staticmethod
    def key(connection: Connection) -> str:
        return f"{connection.login}@{connection.url}"

    def session(self, connection: Connection) -> Tokens | None:
        text = self._credentials.kept(SESSION_SERVICE, self.key(connection))
        if text is None:
            return None
        try:
            data = json.loads(text)
            return Tokens(
                access_token=str(data["access_token"]),
                expires_in=0.0,  # unknown after a restart: resuming refreshes it first
                refresh_token=data.get("refresh_token"),
                session_id=data.get("session_id"),
            )
        except (ValueError, KeyError, TypeError):
            return None  # not ours or damaged: sign in as usual

    def keep_session(self, connection: Connection, tokens: Tokens) -> None:
        value = {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "session_id": tokens.session_id,
        }
        self._credentials.keep(SESSION_SERVICE, self.key(connection), json.dumps(value))

    def forget_session(self, connection: Connection) -> None:
        self._credentials.drop(SESSION_SERVICE, self.key(connection))

    def device_token(self, connection: Connection) -> str | None:
        return self._credentials.kept(DEVICE_SERVICE, self.key(connection))

    def keep_device_token(self, connection: Connection, token: str) -> None:
        self._credentials.keep(DEVICE_SERVICE, self.key(connection), token)


def apply_forced_autostart() -> bool:
    """The administrator's force_autostart, at every start: start at login is turned on if it
    is off (True then). Never raises: a backend that cannot is logged, and the app runs."""
    policy = load_policy()
    if not policy.force_autostart:
        return False
    try:
        turned_on = ensure_enabled(default_backend())
    except Exception as exc:
        log.warning("cannot start at login as %s requires: %s", policy.path, exc)
        return False
    if turned_on:
        log.info("start at login turned on: %s requires it (force_autostart)", policy.path)
    return turned_on


def build_daemon(
    notifier: Notifier, settings: DaemonSettings, passwords: Passwords | None = None
) -> Daemon:
    """``passwords``: instead of the keyring (the demo's in-memory ones); then nothing is
    remembered either (``Memory``), so the demo leaves nothing in the user's keyring."""
    memory: KeyringMemory | None = None
    if passwords is None:
        keyring = KeyringPasswords()
        passwords, memory = keyring, KeyringMemory(keyring.credentials)

    def factory(connection: Connection, timeout: float) -> ServerKind:
        server = create_server(connection, timeout=timeout)
        # A server that pushes "your session was logged out" (AIPIX) makes the daemon check at
        # once; the check's answer ends the session with its notice, as a poll's would.
        server.on_pushed(lambda: daemon.post(CheckNow()))
        # While the server's events stream is up (protocol v1.1), polls are a safety net.
        server.on_live(lambda live: daemon.post(StreamChanged(live)))
        return server

    daemon = Daemon(
        connections=StoreConnections(),
        passwords=passwords,
        memory=memory,
        server_factory=factory,
        notifier=notifier,
        scheduler=ApsScheduler(),
        clock=SystemClock(),
        client_info=default_client_info(),
        settings=settings,
        on_secret=REDACTOR.add,
    )
    return daemon
