"""The session lifecycle as a pure state machine.

Modelled on h11's ``_state.py``: ``TRANSITIONS`` is the one table that says which event is allowed
in which state and where it may lead. ``Engine.handle(event, now)`` looks the pair up, computes the
next context and the *effects* the daemon must perform (HTTP calls, timers, notifications), and
only then commits. An event the table does not list raises ``IllegalTransition`` and changes
nothing. No I/O, no threads, no clock reads: ``now`` is passed in (seconds on a clock that keeps
counting through suspend), and all times in effects are on that clock.

Expected outcomes of the protocol (captcha needed, limit reached, session ended elsewhere) are
events; the daemon turns server replies and exceptions into events in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from vms_tray.errors import IllegalTransition
from vms_tray.session.effects import (
    Cancel,
    DropSession,
    Effect,
    FinishSignIn,
    Notify,
    Poll,
    Probe,
    Refresh,
    Schedule,
    SignOutRemote,
    StartSignIn,
    Subject,
    Timer,
    Topic,
    Withdraw,
)
from vms_tray.session.events import (
    ALL_EVENTS,
    CaptchaAnswered,
    CaptchaNeeded,
    CheckNowRequested,
    EndSessionChosen,
    Event,
    Failed,
    LimitHit,
    NetworkFailed,
    PollDue,
    Polled,
    RefreshDue,
    Refreshed,
    RefreshExpired,
    RetryDue,
    SeatRetryDue,
    ServerAnswered,
    SessionLost,
    SignInRejected,
    SignInRequested,
    SignInSucceeded,
    SignOutRequested,
    WaitCancelled,
    WaitChosen,
)
from vms_tray.session.policies import Level, Policy
from vms_tray.session.snapshot import State

__all__ = [
    "ALL_EVENTS",
    "TRANSITIONS",
    "Cancel",
    "CaptchaAnswered",
    "CaptchaNeeded",
    "CheckNowRequested",
    "Context",
    "DropSession",
    "Effect",
    "EndSessionChosen",
    "Engine",
    "Event",
    "Failed",
    "FinishSignIn",
    "LimitHit",
    "NetworkFailed",
    "Notify",
    "Poll",
    "PollDue",
    "Polled",
    "Probe",
    "Refresh",
    "RefreshDue",
    "RefreshExpired",
    "Refreshed",
    "RetryDue",
    "Schedule",
    "SeatRetryDue",
    "ServerAnswered",
    "SessionLost",
    "SignInRejected",
    "SignInRequested",
    "SignInSucceeded",
    "SignOutRemote",
    "SignOutRequested",
    "StartSignIn",
    "Subject",
    "Timer",
    "Topic",
    "View",
    "WaitCancelled",
    "WaitChosen",
    "Withdraw",
]

# --- the table ---------------------------------------------------------------------------------

S = State

# Each (state, event) pair lists the states it may lead to; the first is the usual one. Where there
# are two, the engine's context decides (noted on the line). Anything not here is illegal.
TRANSITIONS: Mapping[State, Mapping[type[Event], tuple[State, ...]]] = {
    S.SIGNED_OUT: {
        SignInRequested: (S.SIGNING_IN,),
        SignOutRequested: (S.SIGNED_OUT,),
    },
    S.SIGNING_IN: {
        SignInSucceeded: (S.SIGNED_IN,),
        CaptchaNeeded: (S.CAPTCHA_REQUIRED,),
        LimitHit: (S.LIMIT_REACHED,),
        SignInRejected: (S.ERROR,),
        NetworkFailed: (S.RECONNECTING,),
        Failed: (S.ERROR,),
        SignOutRequested: (S.SIGNED_OUT,),
    },
    S.CAPTCHA_REQUIRED: {
        CaptchaAnswered: (S.SIGNING_IN,),
        CaptchaNeeded: (S.CAPTCHA_REQUIRED,),  # a new image replaced an expired one
        SignInRequested: (S.SIGNING_IN,),
        SignOutRequested: (S.SIGNED_OUT,),
    },
    S.LIMIT_REACHED: {
        EndSessionChosen: (S.SIGNING_IN,),
        WaitChosen: (S.LIMIT_REACHED,),
        WaitCancelled: (S.LIMIT_REACHED,),
        SeatRetryDue: (S.SIGNING_IN,),
        CheckNowRequested: (S.LIMIT_REACHED,),
        SignInRequested: (S.SIGNING_IN,),
        SignOutRequested: (S.SIGNED_OUT,),
    },
    S.SIGNED_IN: {
        RefreshDue: (S.SIGNED_IN,),
        Refreshed: (S.SIGNED_IN,),
        PollDue: (S.SIGNED_IN,),
        Polled: (S.SIGNED_IN,),
        CheckNowRequested: (S.SIGNED_IN,),
        NetworkFailed: (S.RECONNECTING,),
        SessionLost: (S.ENDED,),
        RefreshExpired: (S.ENDED, S.SIGNING_IN),  # SIGNING_IN: silent re-auth kinds
        Failed: (S.ERROR,),
        SignOutRequested: (S.SIGNED_OUT,),
    },
    S.RECONNECTING: {
        RetryDue: (S.RECONNECTING, S.SIGNING_IN),  # SIGNING_IN: no session to probe yet
        CheckNowRequested: (S.RECONNECTING, S.SIGNING_IN),  # as RetryDue, without waiting
        ServerAnswered: (S.SIGNED_IN,),
        Refreshed: (S.SIGNED_IN,),
        NetworkFailed: (S.RECONNECTING,),
        SessionLost: (S.ENDED,),
        RefreshExpired: (S.ENDED, S.SIGNING_IN),
        Failed: (S.ERROR,),
        SignOutRequested: (S.SIGNED_OUT,),
    },
    S.ENDED: {
        SignInRequested: (S.SIGNING_IN,),
        SignOutRequested: (S.SIGNED_OUT,),
    },
    S.ERROR: {
        SignInRequested: (S.SIGNING_IN,),
        SignOutRequested: (S.SIGNED_OUT,),
    },
}

# --- context -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """Everything the engine remembers besides the state. Replaced, never mutated."""

    silent_reauth: bool = False
    has_session: bool = False  # the daemon holds tokens that may still be valid
    reauthing: bool = False  # a silent re-auth is in flight: a refusal means the password changed
    expires_at: float | None = None
    in_use: int | None = None
    max_sessions: int | None = None
    level: Level = Level.UNKNOWN
    attempt: int = 0  # reconnect attempts since the server last answered
    unreachable_notified: bool = False
    waiting: bool = False  # waiting for a seat in LIMIT_REACHED
    last_error: str | None = None
    ended_by: str | None = None


@dataclass(frozen=True)
class View:
    """The engine's part of a Snapshot."""

    state: State
    in_use: int | None
    max_sessions: int | None
    expires_in: float | None
    last_error: str | None
    ended_by: str | None
    waiting_for_seat: bool


Step = tuple[State, Context, list[Effect]]
Handler = Callable[["Engine", State, Context, Event, float], Step]

_KEEPALIVE = (Timer.REFRESH, Timer.POLL)
_ALL_TIMERS = tuple(Timer)


def _cancel(*timers: Timer) -> list[Effect]:
    return [Cancel(t) for t in timers]


def _withdraw(*subjects: Subject) -> list[Effect]:
    return [Withdraw(s) for s in subjects]


# Leaving the signed-in states: seat counts and "does not answer" describe a session that is gone.
_SESSION_NOTICES = (Subject.SEATS, Subject.NETWORK)


class Engine:
    def __init__(self, policy: Policy | None = None) -> None:
        self.policy = policy or Policy()
        self._state = State.SIGNED_OUT
        self._ctx = Context()

    @property
    def state(self) -> State:
        return self._state

    @property
    def context(self) -> Context:
        return self._ctx

    def accepts(self, event: Event) -> bool:
        return type(event) in TRANSITIONS[self._state]

    def handle(self, event: Event, now: float) -> list[Effect]:
        allowed = TRANSITIONS[self._state].get(type(event))
        if allowed is None:
            raise IllegalTransition(self._state.value, type(event).__name__)
        handler = _HANDLERS[type(event)]
        target, ctx, effects = handler(self, self._state, self._ctx, event, now)
        if target not in allowed:  # a bug in a handler, never a user error
            raise AssertionError(f"{type(event).__name__} led {self._state} to {target}")
        self._state, self._ctx = target, ctx
        return effects

    def view(self, now: float) -> View:
        c = self._ctx
        expires_in = None
        if c.has_session and c.expires_at is not None:
            expires_in = max(0.0, c.expires_at - now)
        return View(
            state=self._state,
            in_use=c.in_use,
            max_sessions=c.max_sessions,
            expires_in=expires_in,
            last_error=c.last_error,
            ended_by=c.ended_by,
            waiting_for_seat=c.waiting,
        )

    # --- helpers used by handlers ---

    def _limit(
        self, ctx: Context, in_use: int | None, max_sessions: int | None
    ) -> tuple[Context, list[Effect]]:
        """Record a session count; notify once per crossing of a warning threshold."""
        if in_use is None:
            return ctx, []
        new = self.policy.level(in_use, max_sessions)
        old = ctx.level
        topic: Topic | None = None
        if new is Level.FULL and old is not Level.FULL:
            topic = Topic.LIMIT_FULL
        elif new is Level.NEAR and old in (Level.UNKNOWN, Level.UNDER):
            topic = Topic.NEAR_LIMIT
        elif new is Level.UNDER and old in (Level.NEAR, Level.FULL):
            topic = Topic.BACK_UNDER
        # FULL -> NEAR stays quiet: the user was just told it is full; they hear "back under".
        ctx = replace(ctx, in_use=in_use, max_sessions=max_sessions, level=new)
        effects: list[Effect] = []
        if topic is not None:
            effects.append(Notify(topic, in_use, max_sessions))
        return ctx, effects

    def _keepalive(self, ctx: Context, now: float, expires_in: float) -> tuple[Context, Effect]:
        ctx = replace(ctx, expires_at=now + expires_in)
        return ctx, Schedule(Timer.REFRESH, now + self.policy.refresh_delay(expires_in))

    def _reconnect(
        self, ctx: Context, now: float, message: str, retry_after: float | None, notify: bool
    ) -> Step:
        delay = self.policy.backoff_delay(ctx.attempt, retry_after)
        effects: list[Effect] = [*_cancel(*_KEEPALIVE), Schedule(Timer.RETRY, now + delay)]
        # A blip that the first quick retry mends (a dropped connection, a lost reply) is not
        # worth two pop-ups; an outage that outlasts it, or a long Retry-After, is.
        lasting = ctx.attempt >= 1 or delay > self.policy.timing.quiet_retry
        if notify and lasting and not ctx.unreachable_notified:
            effects.append(Notify(Topic.UNREACHABLE, detail=message))
            ctx = replace(ctx, unreachable_notified=True)
        ctx = replace(ctx, attempt=ctx.attempt + 1, last_error=message, reauthing=False)
        return S.RECONNECTING, ctx, effects

    def _back_online(
        self, ctx: Context, now: float, in_use: int | None, max_sessions: int | None
    ) -> tuple[Context, list[Effect]]:
        effects: list[Effect] = [Cancel(Timer.RETRY)]
        if ctx.unreachable_notified:
            effects.append(Notify(Topic.BACK_ONLINE))
        ctx = replace(ctx, attempt=0, unreachable_notified=False, last_error=None)
        ctx, notes = self._limit(ctx, in_use, max_sessions)
        # The token may have lapsed while we were away: refresh now if so, else on schedule.
        refresh_at = now
        if ctx.expires_at is not None and ctx.expires_at - now > self.policy.timing.refresh_margin:
            refresh_at = now + self.policy.refresh_delay(ctx.expires_at - now)
        effects += [
            Schedule(Timer.REFRESH, refresh_at),
            Schedule(Timer.POLL, now + self.policy.poll_delay()),
        ]
        return ctx, effects + notes


# --- handlers ----------------------------------------------------------------------------------


def _sign_in_requested(e: Engine, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, SignInRequested)
    ctx = Context(silent_reauth=ev.silent_reauth)
    return S.SIGNING_IN, ctx, [*_cancel(*_ALL_TIMERS), StartSignIn()]


def _sign_in_succeeded(e: Engine, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, SignInSucceeded)
    effects: list[Effect] = [*_cancel(Timer.SEAT, Timer.RETRY)]
    # Signed in: what stood in the way (captcha, no free seat, a refused password, an ended
    # session, an outage) is over. A notice the user waited for replaces its notice instead.
    effects.append(Notify(Topic.SEAT_FREED) if c.waiting else Withdraw(Subject.SIGN_IN))
    effects.append(Withdraw(Subject.SESSION))
    if c.unreachable_notified:
        effects.append(Notify(Topic.BACK_ONLINE))
    else:
        effects.append(Withdraw(Subject.NETWORK))
    ctx = replace(
        c,
        has_session=True,
        reauthing=False,
        waiting=False,
        attempt=0,
        unreachable_notified=False,
        last_error=None,
        ended_by=None,
    )
    ctx, refresh = e._keepalive(ctx, now, ev.expires_in)
    ctx, notes = e._limit(ctx, ev.in_use, ev.max_sessions)
    effects += [refresh, Schedule(Timer.POLL, now + e.policy.poll_delay()), *notes]
    return S.SIGNED_IN, ctx, effects


def _captcha_needed(e: Engine, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, CaptchaNeeded)
    effects: list[Effect] = []
    if s is S.SIGNING_IN:
        effects.append(Notify(Topic.CAPTCHA, detail=ev.reason))
    ctx = replace(c, reauthing=False, last_error=None if ev.reason == "required" else ev.reason)
    return S.CAPTCHA_REQUIRED, ctx, effects


def _captcha_answered(e: Engine, s: State, c: Context, ev: Event, now: float) -> Step:
    return S.SIGNING_IN, c, [StartSignIn()]


def _limit_hit(e: Engine, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, LimitHit)
    # The conflict told the user the account is full: the sign-in that follows (a session ended
    # for us, a seat that freed up) must not announce "limit reached" once more.
    level = e.policy.level(ev.in_use, ev.max_sessions)
    ctx = replace(c, in_use=ev.in_use, max_sessions=ev.max_sessions, level=level, reauthing=False)
    if c.waiting:
        # Still full: keep waiting quietly.
        at = now + e.policy.seat_retry_delay(ev.retry_after)
        return S.LIMIT_REACHED, ctx, [Schedule(Timer.SEAT, at)]
    note = Notify(Topic.LIMIT_CONFLICT, ev.in_use, ev.max_sessions)
    return S.LIMIT_REACHED, ctx, [note]


def _end_session_chosen(e: Engine, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, EndSessionChosen)
    ctx = replace(c, waiting=False)
    return S.SIGNING_IN, ctx, [Cancel(Timer.SEAT), FinishSignIn(ev.session_id)]


def _wait_chosen(e: Engine, s: State, c: Context, ev: Event, now: float) -> Step:
    at = now + e.policy.seat_retry_delay()
    # "End one or wait" is answered: its (critical) notice goes; the icon says we wait.
    effects: list[Effect] = [Schedule(Timer.SEAT, at), *_withdraw(Subject.SIGN_IN)]
    return S.LIMIT_REACHED, replace(c, waiting=True), effects


def _wait_cancelled(e: Engine, s: State, c: Context, ev: Event, now: float) -> Step:
    return S.LIMIT_REACHED, replace(c, waiting=False), [Cancel(Timer.SEAT)]


def _seat_retry_due(e: Engine, s: State, c: Context, ev: Event, now: float) -> Step:
    return S.SIGNING_IN, c, [StartSignIn()]


def _sign_in_rejected(e: Engine, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, SignInRejected)
    topic = Topic.SIGN_IN_FAILED
    if ev.credentials and c.reauthing:
        topic = Topic.PASSWORD_REJECTED
    ctx = replace(c, has_session=False, reauthing=False, waiting=False, last_error=ev.message)
    effects: list[Effect] = [*_cancel(*_ALL_TIMERS), DropSession(), *_withdraw(*_SESSION_NOTICES)]
    effects.append(Notify(topic, detail=ev.message))
    return S.ERROR, ctx, effects


def _network_failed(e: Engine, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, NetworkFailed)
    # Tell the user only when a working session is at stake, and once per outage.
    notify = s is S.SIGNED_IN or (s is S.RECONNECTING and c.has_session)
    return e._reconnect(c, now, ev.message, ev.retry_after, notify)


def _retry(e: Engine, s: State, c: Context, ev: Event, now: float) -> Step:
    if c.has_session:
        spent = c.expires_at is None or c.expires_at - now <= e.policy.timing.refresh_margin
        return S.RECONNECTING, c, [Cancel(Timer.RETRY), Probe(refresh=spent)]
    return S.SIGNING_IN, c, [Cancel(Timer.RETRY), StartSignIn()]


def _server_answered(e: Engine, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, ServerAnswered)
    ctx, effects = e._back_online(c, now, ev.in_use, ev.max_sessions)
    return S.SIGNED_IN, ctx, effects


def _refresh_due(e: Engine, s: State, c: Context, ev: Event, now: float) -> Step:
    return S.SIGNED_IN, c, [Refresh()]


def _refreshed(e: Engine, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, Refreshed)
    effects: list[Effect] = []
    ctx = c
    if s is S.RECONNECTING:
        ctx, effects = e._back_online(c, now, None, None)
        effects = [x for x in effects if not (isinstance(x, Schedule) and x.timer is Timer.REFRESH)]
    ctx, refresh = e._keepalive(ctx, now, ev.expires_in)
    return S.SIGNED_IN, ctx, [*effects, refresh]


def _poll_due(e: Engine, s: State, c: Context, ev: Event, now: float) -> Step:
    return S.SIGNED_IN, c, [Poll()]


def _polled(e: Engine, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, Polled)
    ctx, notes = e._limit(c, ev.in_use, ev.max_sessions)
    return S.SIGNED_IN, ctx, [Schedule(Timer.POLL, now + e.policy.poll_delay()), *notes]


def _session_lost(e: Engine, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, SessionLost)
    ctx = replace(
        c,
        has_session=False,
        expires_at=None,
        ended_by=ev.ended_by,
        last_error=ev.reason,
        level=Level.UNKNOWN,
        in_use=None,
    )
    note = Notify(Topic.ENDED_ELSEWHERE, detail=ev.ended_by or ev.reason)
    gone = _withdraw(*_SESSION_NOTICES)
    return S.ENDED, ctx, [*_cancel(*_ALL_TIMERS), DropSession(), *gone, note]


def _refresh_expired(e: Engine, s: State, c: Context, ev: Event, now: float) -> Step:
    if c.silent_reauth:
        ctx = replace(c, has_session=False, reauthing=True, expires_at=None)
        return S.SIGNING_IN, ctx, [*_cancel(*_ALL_TIMERS), StartSignIn()]
    ctx = replace(c, has_session=False, expires_at=None, last_error="session expired")
    note = Notify(Topic.SESSION_EXPIRED)
    gone = _withdraw(*_SESSION_NOTICES)
    return S.ENDED, ctx, [*_cancel(*_ALL_TIMERS), DropSession(), *gone, note]


def _check_now(e: Engine, s: State, c: Context, ev: Event, now: float) -> Step:
    if s is S.SIGNED_IN:
        # A jump may have put expiry close or past: refresh now if so; poll in any case.
        effects: list[Effect] = [Cancel(Timer.POLL), Poll()]
        if c.expires_at is not None and c.expires_at - now <= e.policy.timing.refresh_margin:
            effects.append(Schedule(Timer.REFRESH, now))
        return S.SIGNED_IN, c, effects
    if s is S.LIMIT_REACHED:
        return S.LIMIT_REACHED, c, [Schedule(Timer.SEAT, now)] if c.waiting else []
    return _retry(e, s, c, ev, now)


def _sign_out_requested(e: Engine, s: State, c: Context, ev: Event, now: float) -> Step:
    effects: list[Effect] = [*_cancel(*_ALL_TIMERS)]
    if c.has_session:
        effects.append(SignOutRemote())
    effects.append(DropSession())
    # The user chose to be signed out (or to quit): no notice on screen is news any more.
    effects += _withdraw(*Subject)
    ctx = Context(silent_reauth=c.silent_reauth)
    return S.SIGNED_OUT, ctx, effects


def _failed(e: Engine, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, Failed)
    ctx = replace(c, has_session=False, reauthing=False, last_error=ev.message)
    effects: list[Effect] = [*_cancel(*_ALL_TIMERS), DropSession()]
    # The error notice (Subject.SESSION) says what is wrong now; a captcha or seat notice of the
    # sign-in it stopped is stale.
    effects += _withdraw(*_SESSION_NOTICES, Subject.SIGN_IN)
    return S.ERROR, ctx, [*effects, Notify(Topic.FAILED, detail=ev.message)]


_HANDLERS: Mapping[type[Event], Handler] = {
    SignInRequested: _sign_in_requested,
    SignInSucceeded: _sign_in_succeeded,
    CaptchaNeeded: _captcha_needed,
    CaptchaAnswered: _captcha_answered,
    LimitHit: _limit_hit,
    EndSessionChosen: _end_session_chosen,
    WaitChosen: _wait_chosen,
    WaitCancelled: _wait_cancelled,
    SeatRetryDue: _seat_retry_due,
    SignInRejected: _sign_in_rejected,
    NetworkFailed: _network_failed,
    RetryDue: _retry,
    ServerAnswered: _server_answered,
    RefreshDue: _refresh_due,
    Refreshed: _refreshed,
    PollDue: _poll_due,
    Polled: _polled,
    SessionLost: _session_lost,
    RefreshExpired: _refresh_expired,
    CheckNowRequested: _check_now,
    SignOutRequested: _sign_out_requested,
    Failed: _failed,
}
