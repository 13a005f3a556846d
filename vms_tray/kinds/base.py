"""The server-kind interface: what the daemon needs from any VMS server.

Each kind (our protocol v1 in ``native``, ZoneMinder in ``zoneminder``) subclasses ``ServerKind``,
declares ``capabilities``, and translates every foreign exception (httpx, ssl, json) into
``vms_tray.errors`` at this boundary, once. Tokens are passed in and returned, never kept: the
daemon owns session state.

Expected outcomes of a sign-in (captcha needed, session limit reached) are *returned* as values;
failures (wrong password, network down, certificate untrusted) are *raised*.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Self

from vms_tray.errors import Unsupported
from vms_tray.session.records import (
    Captcha,
    CaptchaAnswer,
    ServerInfo,
    SessionEntry,
    SessionList,
    SignInOutcome,
    Tokens,
)


@dataclass(frozen=True)
class Capabilities:
    list_sessions: bool = True
    end_sessions: bool = True
    captcha: bool = True
    session_limit: bool = True
    # False where sign-out cannot free anything server-side (ZoneMinder tokens outlive logout).
    server_side_sign_out: bool = True
    # True where a spent refresh token is renewed by signing in again with the stored password
    # without taking another seat (ZoneMinder); False where that would need the user (native).
    silent_reauth: bool = False


@dataclass(frozen=True)
class ClientInfo:
    device: str
    software: str
    version: str
    # What the server gave this device at its last correct password for the login (see
    # SignedIn.device_token); kinds without one ignore it.
    device_token: str | None = field(default=None, repr=False)


class ServerKind(abc.ABC):
    """One VMS server reached over HTTPS. Thread-safe for one caller at a time."""

    kind: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    @abc.abstractmethod
    def server_info(self) -> ServerInfo: ...

    @abc.abstractmethod
    def sign_in(
        self, login: str, password: str, client: ClientInfo, captcha: CaptchaAnswer | None = None
    ) -> SignInOutcome: ...

    def finish_sign_in(self, conflict_token: str, client: ClientInfo) -> SignInOutcome:
        raise Unsupported(f"{self.kind} servers have no session limit to resolve")

    @abc.abstractmethod
    def refresh(self, tokens: Tokens) -> Tokens:
        """Keep-alive. Raises TokenExpired when the refresh material is spent."""

    @abc.abstractmethod
    def check(self, tokens: Tokens) -> None:
        """A cheap authenticated request: raises AuthError if the session is gone."""

    def list_sessions(self, bearer: str) -> SessionList:
        """``bearer`` is an access token or, in a limit conflict, the conflict token."""
        raise Unsupported(f"{self.kind} servers do not report sessions")

    def current_session(self, bearer: str) -> SessionEntry:
        raise Unsupported(f"{self.kind} servers do not report sessions")

    def end_session(self, bearer: str, session_id: str) -> None:
        raise Unsupported(f"{self.kind} servers cannot end sessions")

    def new_captcha(self, replaces: str | None = None) -> Captcha:
        raise Unsupported(f"{self.kind} servers do not use a captcha")

    def on_pushed(self, callback: Callable[[], None]) -> None:
        """``callback()`` when the server says, unasked, that our session changed (AIPIX's
        logout push): the daemon then checks the session at once. Most kinds hear nothing."""
        return None  # nothing pushes to this kind: the poll is how it learns

    def queues(self) -> bool:
        """Whether waiting for a seat keeps a place in a server-side queue (protocol v1.1):
        the daemon then waits with the conflict token instead of signing in again."""
        return False

    def hands_over(self) -> bool:
        """Whether ``request_handover`` can work (protocol v1.1's ``handover`` feature), as far
        as the kind knows without asking the server (it is called while a snapshot is made)."""
        return False

    def request_handover(self, bearer: str, session_id: str) -> datetime:
        """Ask the holder of ``session_id`` to hand its seat over (protocol v1.1); the time the
        server will end it. ``bearer``: the conflict token of a sign-in at the limit."""
        raise Unsupported(f"{self.kind} servers cannot ask a session to hand over its seat")

    def on_live(self, callback: Callable[[bool], None]) -> None:
        """``callback(True)`` while the server's pushes are known to arrive (protocol v1.1's
        events stream is up), ``callback(False)`` when they stop: the daemon then polls only as
        a slow safety net. Kinds without a stream never call it."""
        return None

    @abc.abstractmethod
    def sign_out(self, tokens: Tokens) -> None:
        """Idempotent; frees the seat where the kind can."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the HTTP connection pool."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
