"""Events of the session engine: what happened (a user's intent, a server's answer, a timer)."""

from __future__ import annotations

from dataclasses import dataclass

from vms_tray.session.failures import Failure, FailureKind


@dataclass(frozen=True)
class SignInRequested:
    silent_reauth: bool = False  # the kind renews a spent session with the stored password


@dataclass(frozen=True)
class SignInSucceeded:
    expires_in: float
    in_use: int | None = None
    max_sessions: int | None = None


@dataclass(frozen=True)
class CaptchaNeeded:
    reason: str = "required"  # required | invalid | expired


@dataclass(frozen=True)
class CaptchaAnswered:
    pass


@dataclass(frozen=True)
class LimitHit:
    in_use: int
    max_sessions: int | None
    retry_after: float | None = None
    queue_position: int | None = None  # our place in the server's queue (protocol v1.1)


@dataclass(frozen=True)
class ConflictExpired:
    """Finishing a sign-in with the limit's conflict token failed: the token is spent or
    expired (or there is none). The sign-in starts again with the password."""


@dataclass(frozen=True)
class EndSessionChosen:
    session_id: str


@dataclass(frozen=True)
class WaitChosen:
    """The user waits for a seat; ``handover_in``/``handover_of``: because they asked the
    session of ``handover_of`` to hand over, which the server ends in that many seconds (the
    seat is then held for them, protocol v1.1)."""

    handover_in: float | None = None
    handover_of: str = ""


@dataclass(frozen=True)
class WaitCancelled:
    pass


@dataclass(frozen=True)
class SeatRetryDue:
    pass


@dataclass(frozen=True)
class SignInRejected:
    """Wrong password, access denied, throttled, untrusted certificate: the user must act."""

    failure: Failure

    @property
    def credentials(self) -> bool:
        """The password itself was refused (or there was none to send)."""
        return self.failure.kind is FailureKind.CREDENTIALS


@dataclass(frozen=True)
class NetworkFailed:
    failure: Failure
    retry_after: float | None = None


@dataclass(frozen=True)
class TrustFailed:
    """A keep-alive request met a certificate that is not the trusted one (a pin mismatch, an
    unknown CA) while a session is held: the session is kept and retried on the backoff, so it
    resumes when the trusted certificate is back (or the user trusts the new one)."""

    failure: Failure


@dataclass(frozen=True)
class RetryDue:
    pass


@dataclass(frozen=True)
class ServerAnswered:
    in_use: int | None = None
    max_sessions: int | None = None


@dataclass(frozen=True)
class RefreshDue:
    pass


@dataclass(frozen=True)
class Refreshed:
    expires_in: float


@dataclass(frozen=True)
class PollDue:
    pass


@dataclass(frozen=True)
class Polled:
    in_use: int | None = None
    max_sessions: int | None = None
    # Someone at the limit asked for this session's seat (protocol v1.1 handover): the server
    # ends it in ``handover_in`` seconds unless it is released sooner.
    handover_in: float | None = None
    handover_by: str = ""


@dataclass(frozen=True)
class StreamChanged:
    """The server's events stream came up (its news arrives at once) or went down: while it
    is up, polling is only a slow safety net."""

    live: bool


@dataclass(frozen=True)
class SessionLost:
    """The server ended our session (another device, an administrator, idle timeout)."""

    reason: str
    ended_by: str | None = None  # "OPS-PC-12 (vms-tray 1.0)"


@dataclass(frozen=True)
class RefreshExpired:
    """The refresh material is spent (401 token-expired on refresh)."""


@dataclass(frozen=True)
class AccessExpired:
    """A poll or probe met 401 token-expired: the access token lapsed (a suspend), the refresh
    material may still be good."""


@dataclass(frozen=True)
class CheckNowRequested:
    """Resume from suspend, a clock jump, or the user's "Refresh"."""


@dataclass(frozen=True)
class SignOutRequested:
    pass


@dataclass(frozen=True)
class Failed:
    """An error that retrying will not fix (certificate changed, protocol violation)."""

    failure: Failure


Event = (
    SignInRequested
    | SignInSucceeded
    | CaptchaNeeded
    | CaptchaAnswered
    | LimitHit
    | EndSessionChosen
    | WaitChosen
    | WaitCancelled
    | SeatRetryDue
    | SignInRejected
    | NetworkFailed
    | TrustFailed
    | RetryDue
    | ServerAnswered
    | RefreshDue
    | Refreshed
    | PollDue
    | Polled
    | SessionLost
    | RefreshExpired
    | AccessExpired
    | CheckNowRequested
    | StreamChanged
    | ConflictExpired
    | SignOutRequested
    | Failed
)

ALL_EVENTS: tuple[type[Event], ...] = (
    SignInRequested,
    SignInSucceeded,
    CaptchaNeeded,
    CaptchaAnswered,
    LimitHit,
    EndSessionChosen,
    WaitChosen,
    WaitCancelled,
    SeatRetryDue,
    SignInRejected,
    NetworkFailed,
    TrustFailed,
    RetryDue,
    ServerAnswered,
    RefreshDue,
    Refreshed,
    PollDue,
    Polled,
    SessionLost,
    RefreshExpired,
    AccessExpired,
    CheckNowRequested,
    StreamChanged,
    SignOutRequested,
    Failed,
    ConflictExpired,
)
