"""What the daemon remembers of an account between runs (``ports.Memory``, the keyring): the
session it holds, resumed after a crash or a SIGKILL instead of taking a second seat (issue 14
item 7), and the server's device token, sent with later sign-ins.

Every keyring failure is logged and swallowed here: a keyring that cannot answer must never stop
a sign-in or a keep-alive; the worst case is the old behaviour (a new seat after a crash).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from vms_tray.connections.model import Connection
from vms_tray.daemon.ports import Memory, NoMemory
from vms_tray.errors import loggable
from vms_tray.session.records import Tokens

log = logging.getLogger(__name__)

T = TypeVar("T")


class SafeMemory:
    def __init__(self, memory: Memory | None) -> None:
        self._memory = memory or NoMemory()

    @staticmethod
    def _quietly(what: str, fn: Callable[[], T], default: T) -> T:
        try:
            return fn()
        except Exception as exc:
            log.warning("could not %s: %s", what, loggable(exc))
            return default

    def session(self, conn: Connection) -> Tokens | None:
        return self._quietly("read the saved session", lambda: self._memory.session(conn), None)

    def keep_session(self, conn: Connection | None, tokens: Tokens) -> None:
        if conn is not None:
            self._quietly("save the session", lambda: self._memory.keep_session(conn, tokens), None)

    def forget_session(self, conn: Connection | None) -> None:
        if conn is not None:
            forget = self._memory.forget_session
            self._quietly("forget the saved session", lambda: forget(conn), None)

    def device_token(self, conn: Connection) -> str | None:
        read = self._memory.device_token
        return self._quietly("read the device token", lambda: read(conn), None)

    def keep_device_token(self, conn: Connection | None, token: str | None) -> None:
        if conn is not None and token:
            keep = self._memory.keep_device_token
            self._quietly("keep the device token", lambda: keep(conn, token), None)
