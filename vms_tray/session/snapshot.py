"""The immutable picture of the daemon's state that views (tray, status CLI, dialogs) render."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from vms_tray.session.failures import Failure, FailureKind

__all__ = ["Failure", "FailureKind", "ServerChoice", "Snapshot", "State"]


class State(StrEnum):
    SIGNED_OUT = "signed_out"
    SIGNING_IN = "signing_in"
    CAPTCHA_REQUIRED = "captcha_required"
    LIMIT_REACHED = "limit_reached"
    SIGNED_IN = "signed_in"
    RECONNECTING = "reconnecting"
    ENDED = "ended"
    ERROR = "error"


@dataclass(frozen=True)
class ServerChoice:
    name: str
    default: bool
    kind: str


@dataclass(frozen=True)
class Snapshot:
    state: State = State.SIGNED_OUT
    server: str | None = None
    login: str | None = None
    kind: str | None = None
    sessions_in_use: int | None = None
    max_sessions: int | None = None
    warn_margin: int = 1
    expires_in: float | None = None
    error: Failure | None = None  # why the last sign-in or session failed
    ended_by: str | None = None  # "OPS-PC-12 (vms-tray 1.0)"
    waiting_for_seat: bool = False
    can_list_sessions: bool = True
    # False where signing out frees nothing on the server (ZoneMinder: the token stays valid).
    sign_out_frees_seat: bool = True
    servers: tuple[ServerChoice, ...] = field(default_factory=tuple)
    autostart: bool = False
    # The captcha on offer (a new one is a new snapshot, so views show it) and why it was asked:
    # "required", or "invalid"/"expired" when it replaced a wrongly answered or expired one.
    captcha_id: str | None = None
    captcha_reason: str | None = None
    # When the limit was last stated, where the server states it only now and then (AIPIX: in a
    # 419); None where every poll reports it. Views then say "limit 4, as of 2026-05-12".
    limit_as_of: datetime | None = None
    # Someone at the limit asked for this session's seat (protocol v1.1): the server ends it at
    # ``handover_deadline`` unless the user releases it sooner; ``handover_by`` is their device.
    handover_deadline: datetime | None = None
    handover_by: str = ""
    can_hand_over: bool = False  # at the limit, the server can ask a session to hand over
    # At the limit, we asked the session of ``handover_asked_of`` to hand over: the server ends
    # it at ``handover_asked_until`` and holds the seat for us.
    handover_asked_until: datetime | None = None
    handover_asked_of: str = ""
    queue_position: int | None = None  # waiting in the server's queue: 1 is next (v1.1)

    @property
    def near_limit(self) -> bool:
        if self.sessions_in_use is None or self.max_sessions is None:
            return False
        return self.sessions_in_use >= self.max_sessions - self.warn_margin

    @property
    def full(self) -> bool:
        if self.sessions_in_use is None or self.max_sessions is None:
            return False
        return self.sessions_in_use >= self.max_sessions
