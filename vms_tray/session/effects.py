"""Effects of the session engine: what the daemon must do next (I/O, timers, notifications)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Timer(StrEnum):
    REFRESH = "refresh"
    POLL = "poll"
    RETRY = "retry"  # reconnect backoff
    SEAT = "seat"  # waiting for a free seat


class Topic(StrEnum):
    """What a notification is about; the daemon words it."""

    NEAR_LIMIT = "near_limit"
    LIMIT_FULL = "limit_full"
    BACK_UNDER = "back_under"
    ENDED_ELSEWHERE = "ended_elsewhere"
    SESSION_EXPIRED = "session_expired"
    UNREACHABLE = "unreachable"
    UNTRUSTED = "untrusted"  # the certificate is not the trusted one; the session is kept
    BACK_ONLINE = "back_online"
    CAPTCHA = "captcha"
    LIMIT_CONFLICT = "limit_conflict"
    SEAT_FREED = "seat_freed"
    PASSWORD_REJECTED = "password_rejected"  # noqa: S105 - a topic name, not a secret
    SIGN_IN_FAILED = "sign_in_failed"
    FAILED = "failed"
    HANDOVER_ASKED = "handover_asked"  # someone needs this seat: it ends at a deadline
    HANDED_OVER = "handed_over"  # the handover's deadline came: the seat went to them
    HANDOVER_REQUESTED = "handover_requested"  # we asked a holder to hand over: we wait for it


# ``Notify.detail`` of a captcha asked by a seat retry (for the seat the user waits for), and of
# the limit met again after the user answered it: the server asks for a captcha at every
# sign-in, so vms-tray cannot go on waiting by itself.
WAITING = "waiting"
CAPTCHA_EACH_TRY = "captcha_each_try"


class Subject(StrEnum):
    """Which on-screen notice a topic occupies: one notice per subject, the newest replaces the
    one before it, and ``Withdraw`` takes it back once its cause is gone."""

    SEATS = "seats"  # how full the account is while signed in
    NETWORK = "network"  # the server does not answer / answers again
    SIGN_IN = "sign_in"  # what a sign-in waits for: captcha, a seat, a password
    SESSION = "session"  # why the session is gone: ended elsewhere, expired, an error


SUBJECT_OF: Mapping[Topic, Subject] = {
    Topic.NEAR_LIMIT: Subject.SEATS,
    Topic.LIMIT_FULL: Subject.SEATS,
    Topic.BACK_UNDER: Subject.SEATS,
    Topic.UNREACHABLE: Subject.NETWORK,
    Topic.UNTRUSTED: Subject.NETWORK,
    Topic.BACK_ONLINE: Subject.NETWORK,
    Topic.CAPTCHA: Subject.SIGN_IN,
    Topic.LIMIT_CONFLICT: Subject.SIGN_IN,
    Topic.SEAT_FREED: Subject.SIGN_IN,
    Topic.HANDOVER_REQUESTED: Subject.SIGN_IN,
    Topic.PASSWORD_REJECTED: Subject.SIGN_IN,
    Topic.SIGN_IN_FAILED: Subject.SIGN_IN,
    Topic.ENDED_ELSEWHERE: Subject.SESSION,
    Topic.SESSION_EXPIRED: Subject.SESSION,
    Topic.FAILED: Subject.SESSION,
    # The notice that this session ends soon; "ended" replaces it when it does.
    Topic.HANDOVER_ASKED: Subject.SESSION,
    Topic.HANDED_OVER: Subject.SESSION,
}


@dataclass(frozen=True)
class StartSignIn:
    """Sign in with the pending login, password and captcha answer (if any). ``waiting``: a
    retry while waiting for a seat, which keeps our place where the server queues waiters."""

    waiting: bool = False


@dataclass(frozen=True)
class FinishSignIn:
    """End ``end_session_id`` with the conflict token, then finish the sign-in with it."""

    end_session_id: str


@dataclass(frozen=True)
class Refresh:
    pass


@dataclass(frozen=True)
class Poll:
    """Count the account's sessions (or a cheap authenticated check where the kind cannot)."""


@dataclass(frozen=True)
class Probe:
    """Reconnecting: one request to learn whether the server answers and the session lives.

    ``refresh``: the access token is (nearly) spent, so the probe should be a refresh.
    """

    refresh: bool = False


@dataclass(frozen=True)
class SignOutRemote:
    """Free the seat on the server (the daemon bounds this request's time)."""


@dataclass(frozen=True)
class DropSession:
    """Forget the tokens: nothing is left to free on the server."""


@dataclass(frozen=True)
class Schedule:
    timer: Timer
    at: float


@dataclass(frozen=True)
class Cancel:
    timer: Timer


@dataclass(frozen=True)
class Notify:
    topic: Topic
    in_use: int | None = None
    max_sessions: int | None = None
    detail: str | None = None
    seconds: float | None = None  # a countdown the notice states (a handover's grace)

    @property
    def subject(self) -> Subject:
        return SUBJECT_OF[self.topic]


@dataclass(frozen=True)
class Withdraw:
    """Take back the notice on ``subject``: what it reported is over (the user signed in)."""

    subject: Subject


Effect = (
    StartSignIn
    | FinishSignIn
    | Refresh
    | Poll
    | Probe
    | SignOutRemote
    | DropSession
    | Schedule
    | Cancel
    | Notify
    | Withdraw
)
