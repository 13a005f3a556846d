"""The session saved where the password is (the OS keyring), so that a start after a crash or a
SIGKILL resumes it instead of taking a second seat (issue 14 item 7).

Every keyring failure is logged and swallowed here: a keyring that cannot answer must never stop
a sign-in or a keep-alive; the worst case is the old behaviour (a new seat after a crash).
"""

from __future__ import annotations

import logging

from vms_tray.connections.model import Connection
from vms_tray.daemon.ports import NoSavedSessions, SavedSessions
from vms_tray.errors import loggable
from vms_tray.session.records import Tokens

log = logging.getLogger(__name__)


class SavedSession:
    def __init__(self, store: SavedSessions | None) -> None:
        self._store = store or NoSavedSessions()

    def load(self, conn: Connection) -> Tokens | None:
        try:
            return self._store.load(conn)
        except Exception as exc:
            log.warning("could not read the saved session: %s", loggable(exc))
            return None

    def save(self, conn: Connection | None, tokens: Tokens) -> None:
        if conn is None:
            return
        try:
            self._store.save(conn, tokens)
        except Exception as exc:
            log.warning("could not save the session: %s", loggable(exc))

    def forget(self, conn: Connection | None) -> None:
        if conn is None:
            return
        try:
            self._store.forget(conn)
        except Exception as exc:
            log.warning("could not forget the saved session: %s", loggable(exc))
