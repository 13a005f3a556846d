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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from vms_tray.errors import Unsupported


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


@dataclass(frozen=True)
class ServerInfo:
    name: str
    product: str
    version: str
    api_version: str
    captcha: str = "never"  # never | always | after-failures
    idle_timeout: float | None = None
    server_time: datetime | None = None


@dataclass(frozen=True)
class Limit:
    scope: str
    max: int | None  # None: no limit
    active: int


@dataclass(frozen=True)
class SessionEntry:
    id: str
    device: str
    software: str
    version: str
    address: str
    started_at: datetime
    last_activity: datetime
    idle: bool
    current: bool

    def to_json(self) -> dict[str, Any]:
        """The protocol's JSON shape of one session (control socket, dialogs)."""
        return {
            "id": self.id,
            "device": self.device,
            "software": self.software,
            "version": self.version,
            "address": self.address,
            "started_at": _iso(self.started_at),
            "last_activity": _iso(self.last_activity),
            "idle": self.idle,
            "current": self.current,
        }


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class SessionList:
    limit: Limit
    sessions: tuple[SessionEntry, ...]

    def to_json(self) -> dict[str, Any]:
        """The shape of the protocol's GET /sessions."""
        lim = self.limit
        return {
            "limit": {"scope": lim.scope, "max": lim.max, "active": lim.active},
            "sessions": [s.to_json() for s in self.sessions],
        }


@dataclass(frozen=True)
class Captcha:
    id: str
    image_png: bytes = field(repr=False)
    expires_in: float


@dataclass(frozen=True)
class CaptchaAnswer:
    id: str
    answer: str = field(repr=False)


@dataclass(frozen=True)
class Tokens:
    """Bearer material. ``repr`` never shows a token, so logging a Tokens is safe."""

    access_token: str = field(repr=False)
    expires_in: float
    refresh_token: str | None = field(default=None, repr=False)
    refresh_expires_in: float | None = None
    session_id: str | None = None


@dataclass(frozen=True)
class SignedIn:
    tokens: Tokens
    limit: Limit | None = None
    idle_timeout: float | None = None


@dataclass(frozen=True)
class CaptchaChallenge:
    captcha: Captcha
    reason: str  # required | invalid | expired


@dataclass(frozen=True)
class LimitConflict:
    limit: Limit
    sessions: tuple[SessionEntry, ...]
    conflict_token: str = field(repr=False)
    expires_in: float


SignInOutcome = SignedIn | CaptchaChallenge | LimitConflict


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
