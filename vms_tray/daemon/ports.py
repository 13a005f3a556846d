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

    def has(self, connection: Connection) -> bool:
        """Whether ``get`` would find one (a keyring may tell without reading the secret)."""

    def set(self, connection: Connection, password: str) -> None: ...


class Memory(Protocol):
    """What the daemon remembers of an account on a server between runs, where the password is
    (the OS keyring): the session it holds, so a start after a crash or a SIGKILL resumes it
    instead of taking a second seat; and the device token the server gave it, so failed
    sign-ins of others from its address do not slow it down (protocol v1 "Throttling")."""

    def session(self, connection: Connection) -> Tokens | None: ...

    def keep_session(self, connection: Connection, tokens: Tokens) -> None: ...

    def forget_session(self, connection: Connection) -> None: ...

    def device_token(self, connection: Connection) -> str | None: ...

    def keep_device_token(self, connection: Connection, token: str) -> None: ...


class NoMemory:
    """Remembers nothing (tests that are not about it, the demo)."""

    def session(self, connection: Connection) -> Tokens | None:
        return None

    def keep_session(self, connection: Connection, tokens: Tokens) -> None:
        pass

    def forget_session(self, connection: Connection) -> None:
        pass

    def device_token(self, connection: Connection) -> str | None:
        return None

    def keep_device_token(self, connection: Connection, token: str) -> None:
        pass


class ServerFactory(Protocol):
    def __call__(self, connection: Connection, timeout: float) -> ServerKind: ...
