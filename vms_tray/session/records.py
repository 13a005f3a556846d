"""What a server tells vms-tray, as frozen values: its info, the seat limit, the session list, a
captcha, the tokens of a sign-in and its outcomes.

The kinds (vms_tray.kinds) produce them, the daemon keeps them and the tray shows them, so they
live below all three and import nothing of ours. ``repr`` never shows a token or an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class ServerInfo:
    name: str
    product: str
    version: str
    api_version: str
    captcha: str = "never"  # never | always | after-failures
    idle_timeout: float | None = None
    server_time: datetime | None = None
    # Protocol v1.1's optional features (docs/protocol.md "Discovery"): "events",
    # "seat-estimates", "queue", "handover". Empty for v1 servers and the other kinds.
    features: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Limit:
    scope: str
    max: int | None  # None: no limit
    active: int
    # When ``max`` was last seen, where the server did not just say it (AIPIX states its limit
    # only in a 419): it may be stale, and is shown with its date.
    as_of: datetime | None = None
    # The soonest a seat is expected to free itself while all are taken (protocol v1.1
    # ``next_free_at``): an estimate, activity pushes it back. None: a seat is free, or unknown.
    next_free_at: datetime | None = None
    held: int = 0  # seats the server holds for the head of its queue (protocol v1.1)


@dataclass(frozen=True)
class Handover:
    """Someone at the limit asked this session's holder to hand its seat over (protocol v1.1):
    the server ends it at ``deadline`` unless it is released sooner."""

    deadline: datetime
    requested_by: str  # the requester's device, as shown

    def to_json(self) -> dict[str, Any]:
        return {"deadline": _iso(self.deadline), "requested_by": {"device": self.requested_by}}


@dataclass(frozen=True)
class SessionEntry:
    id: str
    device: str
    software: str
    version: str
    address: str
    # None where the server does not say (AIPIX reports no start time, and its ``last`` is
    # optional): shown as "unknown", never as a made-up time.
    started_at: datetime | None
    last_activity: datetime | None
    idle: bool
    current: bool
    # When the server ends it by itself unless it is used (protocol v1.1), and a handover
    # asked of it; None where the server does not say.
    ends_by_itself_at: datetime | None = None
    handover: Handover | None = None

    def to_json(self) -> dict[str, Any]:
        """The protocol's JSON shape of one session (control socket, dialogs)."""
        return {
            "id": self.id,
            "device": self.device,
            "software": self.software,
            "version": self.version,
            "address": self.address,
            "started_at": _iso(self.started_at) if self.started_at else None,
            "last_activity": _iso(self.last_activity) if self.last_activity else None,
            "idle": self.idle,
            "current": self.current,
            "ends_by_itself_at": _iso(self.ends_by_itself_at) if self.ends_by_itself_at else None,
            "handover": self.handover.to_json() if self.handover else None,
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
        limit: dict[str, Any] = {"scope": lim.scope, "max": lim.max, "active": lim.active}
        if lim.as_of is not None:
            limit["as_of"] = _iso(lim.as_of)
        if lim.next_free_at is not None:
            limit["next_free_at"] = _iso(lim.next_free_at)
        if lim.held:
            limit["held"] = lim.held
        return {"limit": limit, "sessions": [s.to_json() for s in self.sessions]}


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
    # The server's proof that this device knew the password (protocol v1 "Throttling"): sent
    # with later sign-ins, failures by others from our address do not slow this device down.
    device_token: str | None = field(default=None, repr=False)


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
    device_token: str | None = field(default=None, repr=False)  # as in SignedIn
    queue_position: int | None = None  # protocol v1.1's queue: 1 is the next to get a seat


SignInOutcome = SignedIn | CaptchaChallenge | LimitConflict
