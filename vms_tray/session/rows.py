"""What each row of the engine's table does: the next context and the effects.

``engine.TRANSITIONS`` says which event is legal in which state and where it may lead; the
handler of an event here computes, from the state and context, which of those states it is and
what the daemon must do. Pure functions: no I/O, no clock reads (``now`` is passed in).

Longer than 500 lines because it is the whole table's behaviour, one function per event, so
that every decision about a state has one home (h11's rule); the events are in ``events.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from vms_tray.session.effects import (
    CAPTCHA_EACH_TRY,
    WAITING,
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
    AccessExpired,
    CaptchaAnswered,
    CaptchaNeeded,
    CheckNowRequested,
    ConflictExpired,
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
    StreamChanged,
    TrustFailed,
    WaitCancelled,
    WaitChosen,
)
from vms_tray.session.failures import Failure, FailureKind
from vms_tray.session.policies import EnginePolicy, Level
from vms_tray.session.snapshot import State

S = State

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
    # A seat retry met a captcha: the attempt the user's answer makes is this wait's last one
    # (the server asks for a captcha at every try, so waiting on would ask again and again).
    captcha_wait: bool = False
    failure: Failure | None = None
    ended_by: str | None = None
    # An expired access token met by a poll: "refresh" asked for a refresh, "repoll" asked the
    # poll again after it; a second expiry then means the refresh material is spent too.
    renewal: Literal["refresh", "repoll"] | None = None
    live: bool = False  # the server's events stream is up (the kind says so)
    # A handover asked of this session (protocol v1.1): when it ends (engine clock), for whom.
    handover_at: float | None = None
    handover_by: str = ""
    queue_position: int | None = None  # waiting in the server's queue (protocol v1.1)
    # We asked another session to hand over: when the server ends it (engine clock), whose.
    asked_at: float | None = None
    asked_of: str = ""


Step = tuple[State, Context, list[Effect]]
Handler = Callable[[EnginePolicy, State, Context, Event, float], Step]

_KEEPALIVE = (Timer.REFRESH, Timer.POLL)
_ALL_TIMERS = tuple(Timer)

# Leaving the signed-in states: seat counts and "does not answer" describe a session that is gone.
_SESSION_NOTICES = (Subject.SEATS, Subject.NETWORK)

_EXPIRED = Failure(FailureKind.OTHER, "session expired")


def _cancel(*timers: Timer) -> list[Effect]:
    return [Cancel(t) for t in timers]


def _withdraw(*subjects: Subject) -> list[Effect]:
    return [Withdraw(s) for s in subjects]


# --- helpers used by handlers ------------------------------------------------------------------


def _limit(
    p: EnginePolicy, ctx: Context, in_use: int | None, max_sessions: int | None
) -> tuple[Context, list[Effect]]:
    """Record a session count; notify once per crossing of a warning threshold."""
    if in_use is None:
        return ctx, []
    new = p.level(in_use, max_sessions)
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


def _keepalive(
    p: EnginePolicy, ctx: Context, now: float, expires_in: float
) -> tuple[Context, Effect]:
    ctx = replace(ctx, expires_at=now + expires_in)
    return ctx, Schedule(Timer.REFRESH, now + p.refresh_delay(expires_in))


def _reconnect(
    p: EnginePolicy,
    ctx: Context,
    now: float,
    failure: Failure,
    retry_after: float | None,
    notify: bool,
    topic: Topic = Topic.UNREACHABLE,
) -> Step:
    delay = p.backoff_delay(ctx.attempt, retry_after)
    effects: list[Effect] = [*_cancel(*_KEEPALIVE), Schedule(Timer.RETRY, now + delay)]
    # A blip that the first quick retry mends (a dropped connection, a lost reply) is not
    # worth two pop-ups; an outage that outlasts it, or a long Retry-After, is.
    lasting = ctx.attempt >= 1 or delay > p.timing.quiet_retry
    # A certificate that is not the trusted one is news at once: it may be an attack. Also
    # after "does not answer" (a server restarted with another certificate is first away):
    # once per outage means once per cause here, or the user never hears of the certificate.
    untrusted = topic is Topic.UNTRUSTED
    lasting = lasting or untrusted
    news = not ctx.unreachable_notified or (
        untrusted and (ctx.failure is None or ctx.failure.kind is not failure.kind)
    )
    if notify and lasting and news:
        effects.append(Notify(topic, detail=failure.message))
        ctx = replace(ctx, unreachable_notified=True)
    ctx = replace(ctx, attempt=ctx.attempt + 1, failure=failure, reauthing=False)
    return S.RECONNECTING, ctx, effects


def _back_online(
    p: EnginePolicy, ctx: Context, now: float, in_use: int | None, max_sessions: int | None
) -> tuple[Context, list[Effect]]:
    effects: list[Effect] = [Cancel(Timer.RETRY)]
    if ctx.unreachable_notified:
        effects.append(Notify(Topic.BACK_ONLINE))
    ctx = replace(ctx, attempt=0, unreachable_notified=False, failure=None)
    ctx, notes = _limit(p, ctx, in_use, max_sessions)
    # The token may have lapsed while we were away: refresh now if so, else on schedule.
    refresh_at = now
    if ctx.expires_at is not None and ctx.expires_at - now > p.timing.refresh_margin:
        refresh_at = now + p.refresh_delay(ctx.expires_at - now)
    effects += [
        Schedule(Timer.REFRESH, refresh_at),
        Schedule(Timer.POLL, now + p.poll_delay(ctx.live)),
    ]
    return ctx, effects + notes


# --- handlers ----------------------------------------------------------------------------------


def _sign_in_requested(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, SignInRequested)
    # The stream belongs to the kind, not to a sign-in: it says itself when it goes down.
    ctx = Context(silent_reauth=ev.silent_reauth, live=c.live)
    return S.SIGNING_IN, ctx, [*_cancel(*_ALL_TIMERS), StartSignIn()]


def _sign_in_succeeded(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
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
        captcha_wait=False,
        attempt=0,
        unreachable_notified=False,
        failure=None,
        ended_by=None,
    )
    ctx, refresh = _keepalive(p, ctx, now, ev.expires_in)
    ctx, notes = _limit(p, ctx, ev.in_use, ev.max_sessions)
    effects += [refresh, Schedule(Timer.POLL, now + p.poll_delay(ctx.live)), *notes]
    return S.SIGNED_IN, ctx, effects


def _captcha_needed(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, CaptchaNeeded)
    effects: list[Effect] = []
    if s is S.SIGNING_IN:
        # A seat retry that meets a captcha cannot go on by itself: the user is asked, once,
        # with a notice that says it is for the seat they wait for (issue 10 item 7).
        asked = c.waiting and not c.captcha_wait
        effects.append(Notify(Topic.CAPTCHA, detail=WAITING if asked else ev.reason))
    # Why the picture was asked ("invalid", "expired") is the captcha's reason, not an error.
    ctx = replace(c, reauthing=False, failure=None, captcha_wait=c.waiting)
    return S.CAPTCHA_REQUIRED, ctx, effects


def _captcha_answered(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    return S.SIGNING_IN, c, [StartSignIn()]


def _limit_hit(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, LimitHit)
    # The conflict told the user the account is full: the sign-in that follows (a session ended
    # for us, a seat that freed up) must not announce "limit reached" once more.
    level = p.level(ev.in_use, ev.max_sessions)
    ctx = replace(
        c,
        in_use=ev.in_use,
        max_sessions=ev.max_sessions,
        level=level,
        reauthing=False,
        queue_position=ev.queue_position,
    )
    if c.waiting and c.captcha_wait:
        # The try the user's captcha answer made met the limit again. Another seat retry would
        # meet another captcha, and so on at every retry: stop waiting, say why, once.
        ctx = replace(ctx, waiting=False, captcha_wait=False)
        note = Notify(Topic.LIMIT_CONFLICT, ev.in_use, ev.max_sessions, detail=CAPTCHA_EACH_TRY)
        return S.LIMIT_REACHED, ctx, [Cancel(Timer.SEAT), note]
    if c.waiting:
        # Still full: keep waiting quietly.
        at = now + p.seat_retry_delay(ev.retry_after)
        return S.LIMIT_REACHED, ctx, [Schedule(Timer.SEAT, at)]
    note = Notify(Topic.LIMIT_CONFLICT, ev.in_use, ev.max_sessions)
    return S.LIMIT_REACHED, ctx, [note]


def _end_session_chosen(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, EndSessionChosen)
    ctx = replace(c, waiting=False)
    return S.SIGNING_IN, ctx, [Cancel(Timer.SEAT), FinishSignIn(ev.session_id)]


def _wait_chosen(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, WaitChosen)
    at = now + p.seat_retry_delay()
    # "End one or wait" is answered: its (critical) notice goes; the icon says we wait.
    effects: list[Effect] = [Schedule(Timer.SEAT, at), *_withdraw(Subject.SIGN_IN)]
    ctx = replace(c, waiting=True, captcha_wait=False)
    if ev.handover_in is not None:  # we asked a holder to hand over: whose seat, until when
        ctx = replace(ctx, asked_at=now + max(0.0, ev.handover_in), asked_of=ev.handover_of)
        effects.append(
            Notify(Topic.HANDOVER_REQUESTED, detail=ev.handover_of, seconds=ev.handover_in)
        )
    return S.LIMIT_REACHED, ctx, effects


def _wait_cancelled(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    ctx = replace(c, waiting=False, asked_at=None, asked_of="")
    return S.LIMIT_REACHED, ctx, [Cancel(Timer.SEAT), *_withdraw(Subject.SIGN_IN)]


def _seat_retry_due(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    return S.SIGNING_IN, c, [StartSignIn(waiting=True)]


def _sign_in_rejected(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, SignInRejected)
    topic = Topic.SIGN_IN_FAILED
    if ev.credentials and c.reauthing:
        topic = Topic.PASSWORD_REJECTED
    ctx = replace(c, has_session=False, reauthing=False, waiting=False, failure=ev.failure)
    effects: list[Effect] = [*_cancel(*_ALL_TIMERS), DropSession(), *_withdraw(*_SESSION_NOTICES)]
    effects.append(Notify(topic, detail=ev.failure.message))
    return S.ERROR, ctx, effects


def _network_failed(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, NetworkFailed)
    # Tell the user only when a working session is at stake, and once per outage.
    notify = s is S.SIGNED_IN or (s is S.RECONNECTING and c.has_session)
    return _reconnect(p, c, now, ev.failure, ev.retry_after, notify)


def _trust_failed(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, TrustFailed)
    # Keep the tokens and try again on the backoff: the incident must not cost the seat, and
    # the same session resumes when the pinned certificate is back (issue 14 item 7).
    return _reconnect(p, c, now, ev.failure, None, True, Topic.UNTRUSTED)


def _retry(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    if c.has_session:
        spent = c.expires_at is None or c.expires_at - now <= p.timing.refresh_margin
        return S.RECONNECTING, c, [Cancel(Timer.RETRY), Probe(refresh=spent)]
    return S.SIGNING_IN, c, [Cancel(Timer.RETRY), StartSignIn()]


def _server_answered(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, ServerAnswered)
    ctx, effects = _back_online(p, c, now, ev.in_use, ev.max_sessions)
    return S.SIGNED_IN, ctx, effects


def _refresh_due(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    return S.SIGNED_IN, c, [Refresh()]


def _refreshed(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, Refreshed)
    effects: list[Effect] = []
    ctx = c
    if s is S.RECONNECTING:
        ctx, effects = _back_online(p, c, now, None, None)
        effects = [x for x in effects if not (isinstance(x, Schedule) and x.timer is Timer.REFRESH)]
    ctx, refresh = _keepalive(p, ctx, now, ev.expires_in)
    effects.append(refresh)
    if c.renewal == "refresh":
        # The refresh an expired access token asked for: now ask what the poll asked.
        effects.append(Poll())
    ctx = replace(ctx, renewal="repoll" if c.renewal == "refresh" else None)
    return S.SIGNED_IN, ctx, effects


def _poll_due(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    return S.SIGNED_IN, c, [Poll()]


def _polled(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, Polled)
    ctx, notes = _limit(p, c, ev.in_use, ev.max_sessions)
    ctx, asked = _handover(ctx, ev, now)
    return S.SIGNED_IN, ctx, [Schedule(Timer.POLL, now + p.poll_delay(ctx.live)), *notes, *asked]


def _handover(c: Context, ev: Polled, now: float) -> tuple[Context, list[Effect]]:
    """Tell the user once when a handover is asked of this session (and again only for a new
    deadline); a handover that went away (the server forgot it) is quietly forgotten too."""
    if ev.handover_in is None:
        return replace(c, handover_at=None, handover_by=""), []
    at = now + max(0.0, ev.handover_in)
    known = c.handover_at is not None and abs(c.handover_at - at) < 5.0
    ctx = replace(c, handover_at=c.handover_at if known else at, handover_by=ev.handover_by)
    if known:
        return ctx, []
    return ctx, [Notify(Topic.HANDOVER_ASKED, detail=ev.handover_by, seconds=ev.handover_in)]


def _stream_changed(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, StreamChanged)
    ctx = replace(c, live=ev.live)
    if s is not S.SIGNED_IN or ev.live == c.live:
        return s, ctx, []
    # Up: the next poll is the safety net's. Down: polls come at the usual pace again (the
    # stream's resume replays what it missed, so no poll is owed at once).
    return s, ctx, [Schedule(Timer.POLL, now + p.poll_delay(ev.live))]


def _session_lost(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, SessionLost)
    ctx = replace(
        c,
        has_session=False,
        expires_at=None,
        ended_by=ev.ended_by,
        failure=Failure(FailureKind.OTHER, ev.reason),
        level=Level.UNKNOWN,
        in_use=None,
    )
    handed = ev.reason == "handed_over"  # protocol v1.1: the grace of a handover ran out
    topic = Topic.HANDED_OVER if handed else Topic.ENDED_ELSEWHERE
    note = Notify(topic, detail=ev.ended_by or (None if handed else ev.reason))
    gone = _withdraw(*_SESSION_NOTICES)
    return S.ENDED, ctx, [*_cancel(*_ALL_TIMERS), DropSession(), *gone, note]


def _refresh_expired(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    if c.silent_reauth:
        ctx = replace(c, has_session=False, reauthing=True, expires_at=None)
        return S.SIGNING_IN, ctx, [*_cancel(*_ALL_TIMERS), StartSignIn()]
    ctx = replace(c, has_session=False, expires_at=None, failure=_EXPIRED)
    note = Notify(Topic.SESSION_EXPIRED)
    gone = _withdraw(*_SESSION_NOTICES)
    return S.ENDED, ctx, [*_cancel(*_ALL_TIMERS), DropSession(), *gone, note]


def _access_expired(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    if c.renewal == "repoll":
        # Expired again straight after a refresh: the session itself is spent.
        return _refresh_expired(p, s, c, ev, now)
    return s, replace(c, renewal="refresh"), [Refresh()]


def _check_now(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    if s is S.SIGNED_IN:
        # A jump may have put expiry close or past: refresh now if so; poll in any case.
        effects: list[Effect] = [Cancel(Timer.POLL), Poll()]
        if c.expires_at is not None and c.expires_at - now <= p.timing.refresh_margin:
            effects.append(Schedule(Timer.REFRESH, now))
        return S.SIGNED_IN, c, effects
    if s is S.LIMIT_REACHED:
        return S.LIMIT_REACHED, c, [Schedule(Timer.SEAT, now)] if c.waiting else []
    return _retry(p, s, c, ev, now)


def _sign_out_requested(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    effects: list[Effect] = [*_cancel(*_ALL_TIMERS)]
    if c.has_session:
        effects.append(SignOutRemote())
    effects.append(DropSession())
    # The user chose to be signed out (or to quit): no notice on screen is news any more.
    effects += _withdraw(*Subject)
    ctx = Context(silent_reauth=c.silent_reauth, live=c.live)
    return S.SIGNED_OUT, ctx, effects


def _failed(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    assert isinstance(ev, Failed)
    ctx = replace(c, has_session=False, reauthing=False, failure=ev.failure)
    effects: list[Effect] = [*_cancel(*_ALL_TIMERS), DropSession()]
    # The error notice (Subject.SESSION) says what is wrong now; a captcha or seat notice of the
    # sign-in it stopped is stale.
    effects += _withdraw(*_SESSION_NOTICES, Subject.SIGN_IN)
    return S.ERROR, ctx, [*effects, Notify(Topic.FAILED, detail=ev.failure.message)]


def _conflict_expired(p: EnginePolicy, s: State, c: Context, ev: Event, now: float) -> Step:
    # The limit's conflict token is gone: a password sign-in meets the limit (or a seat) anew.
    return S.SIGNING_IN, c, [StartSignIn(waiting=False)]


HANDLERS: Mapping[type[Event], Handler] = {
    ConflictExpired: _conflict_expired,
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
    TrustFailed: _trust_failed,
    RetryDue: _retry,
    ServerAnswered: _server_answered,
    RefreshDue: _refresh_due,
    Refreshed: _refreshed,
    PollDue: _poll_due,
    Polled: _polled,
    SessionLost: _session_lost,
    RefreshExpired: _refresh_expired,
    AccessExpired: _access_expired,
    CheckNowRequested: _check_now,
    StreamChanged: _stream_changed,
    SignOutRequested: _sign_out_requested,
    Failed: _failed,
}
