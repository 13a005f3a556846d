"""What the daemon needs from the rest of the program, as small interfaces (real ones in wiring)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from vms_tray.connections.model import Connection
from vms_tray.kinds.base import ServerKind
from vms_tray.session.records import Tokens


class Connections(Protocol):
    def get(self, name: str) -> Connection:
        """Raises UnknownConnection."""

    def initial(self) -> Connection | None:
        """The connection to use at start: the one last used, else the default."""

    def all(self) -> Sequence[Connection]: ...

    def mark_used(self, name: str) -> None: ...


class Passwords(Protocol):
    def get(self, connection: Connection) -> str | None: ...

    def set(self, connection: Connection, password: str) -> None: ...


class SavedSessions(Protocol):
    """The session held on a server, kept where the password is (the OS keyring), so a start
    after a crash or a SIGKILL resumes it instead of taking a second seat."""

    def load(self, connection: Connection) -> Tokens | None: ...

    def save(self, connection: Connection, tokens: Tokens) -> None: ...

    def forget(self, connection: Connection) -> None: ...


class NoSavedSessions:
    """Keeps nothing (tests that are not about resuming, a keyring-less start)."""

    def load(self, connection: Connection) -> Tokens | None:
        return None

    def save(self, connection: Connection, tokens: Tokens) -> None:
        pass

    def forget(self, connection: Connection) -> None:
        pass


class ServerFactory(Protocol):
    def __call__(self, connection: Connection, timeout: float) -> ServerKind: ...
