"""The session lifecycle as a pure state machine.

Modelled on h11's ``_state.py``: ``TRANSITIONS`` is the one table that says which event is allowed
in which state and where it may lead. ``Engine.handle(event, now)`` looks the pair up, computes the
next context and the *effects* the daemon must perform (HTTP calls, timers, notifications), and
only then commits. An event the table does not list raises ``IllegalTransition`` and changes
nothing. No I/O, no threads, no clock reads: ``now`` is passed in (seconds on a clock that keeps
counting through suspend), and all times in effects are on that clock.

The handler of each event (``rows.py``) computes the next context and effects. Besides events,
the engine answers the few questions the daemon must ask before it acts (``plan_sign_in``,
``hold``, ``keeps``), so no decision about the state is taken outside this package.

Expected outcomes of the protocol (captcha needed, limit reached, session ended elsewhere) are
events; the daemon turns server replies and exceptions into events in one place
(``vms_tray.daemon.results``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

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
from vms_tray.session.failures import Failure
from vms_tray.session.policies import EnginePolicy
from vms_tray.session.rows import HANDLERS, Context
from vms_tray.session.snapshot import State

__all__ = [
    "ALL_EVENTS",
    "KEPT",
    "TRANSITIONS",
    "AccessExpired",
    "Cancel",
    "CaptchaAnswered",
    "CaptchaNeeded",
    "CheckNowRequested",
    "ConflictExpired",
    "Context",
    "DropSession",
    "Effect",
    "EndSessionChosen",
    "Engine",
    "Event",
    "Failed",
    "Failure",
    "FinishSignIn",
    "Hold",
    "Kept",
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
    "SignInPlan",
    "SignInRejected",
    "SignInRequested",
    "SignInSucceeded",
    "SignOutRemote",
    "SignOutRequested",
    "StartSignIn",
    "StreamChanged",
    "Subject",
    "Timer",
    "Topic",
    "TrustFailed",
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
        StreamChanged: (S.SIGNED_OUT,),  # recorded; SIGNED_IN reschedules its poll
        SignOutRequested: (S.SIGNED_OUT,),
    },
    S.SIGNING_IN: {
        SignInSucceeded: (S.SIGNED_IN,),
        CaptchaNeeded: (S.CAPTCHA_REQUIRED,),
        LimitHit: (S.LIMIT_REACHED,),
        SignInRejected: (S.ERROR,),
        NetworkFailed: (S.RECONNECTING,),
        Failed: (S.ERROR,),
        StreamChanged: (S.SIGNING_IN,),  # recorded; SIGNED_IN reschedules its poll
        ConflictExpired: (S.SIGNING_IN,),  # again, with the password
        SignOutRequested: (S.SIGNED_OUT,),
    },
    S.CAPTCHA_REQUIRED: {
        CaptchaAnswered: (S.SIGNING_IN,),
        CaptchaNeeded: (S.CAPTCHA_REQUIRED,),  # a new image replaced an expired one
        SignInRequested: (S.SIGNING_IN,),
        StreamChanged: (S.CAPTCHA_REQUIRED,),  # recorded; SIGNED_IN reschedules its poll
        SignOutRequested: (S.SIGNED_OUT,),
    },
    S.LIMIT_REACHED: {
        EndSessionChosen: (S.SIGNING_IN,),
        WaitChosen: (S.LIMIT_REACHED,),
        WaitCancelled: (S.LIMIT_REACHED,),
        SeatRetryDue: (S.SIGNING_IN,),
        CheckNowRequested: (S.LIMIT_REACHED,),
        SignInRequested: (S.SIGNING_IN,),
        StreamChanged: (S.LIMIT_REACHED,),  # recorded; SIGNED_IN reschedules its poll
        SignOutRequested: (S.SIGNED_OUT,),
    },
    S.SIGNED_IN: {
        RefreshDue: (S.SIGNED_IN,),
        Refreshed: (S.SIGNED_IN,),
        PollDue: (S.SIGNED_IN,),
        Polled: (S.SIGNED_IN,),
        CheckNowRequested: (S.SIGNED_IN,),
        NetworkFailed: (S.RECONNECTING,),
        TrustFailed: (S.RECONNECTING,),
        SessionLost: (S.ENDED,),
        RefreshExpired: (S.ENDED, S.SIGNING_IN),  # SIGNING_IN: silent re-auth kinds
        AccessExpired: (S.SIGNED_IN, S.ENDED, S.SIGNING_IN),  # refresh; twice: as RefreshExpired
        Failed: (S.ERROR,),
        StreamChanged: (S.SIGNED_IN,),  # recorded; SIGNED_IN reschedules its poll
        SignOutRequested: (S.SIGNED_OUT,),
    },
    S.RECONNECTING: {
        RetryDue: (S.RECONNECTING, S.SIGNING_IN),  # SIGNING_IN: no session to probe yet
        CheckNowRequested: (S.RECONNECTING, S.SIGNING_IN),  # as RetryDue, without waiting
        ServerAnswered: (S.SIGNED_IN,),
        Refreshed: (S.SIGNED_IN,),
        NetworkFailed: (S.RECONNECTING,),
        TrustFailed: (S.RECONNECTING,),
        SessionLost: (S.ENDED,),
        RefreshExpired: (S.ENDED, S.SIGNING_IN),
        AccessExpired: (S.RECONNECTING, S.ENDED, S.SIGNING_IN),
        Failed: (S.ERROR,),
        StreamChanged: (S.RECONNECTING,),  # recorded; SIGNED_IN reschedules its poll
        SignOutRequested: (S.SIGNED_OUT,),
    },
    S.ENDED: {
        SignInRequested: (S.SIGNING_IN,),
        StreamChanged: (S.ENDED,),  # recorded; SIGNED_IN reschedules its poll
        SignOutRequested: (S.SIGNED_OUT,),
    },
    S.ERROR: {
        SignInRequested: (S.SIGNING_IN,),
        StreamChanged: (S.ERROR,),  # recorded; SIGNED_IN reschedules its poll
        SignOutRequested: (S.SIGNED_OUT,),
    },
}


class Kept(StrEnum):
    """What the daemon holds for a sign-in besides the tokens, and may keep only while the
    state needs it (a secret or a stale picture must not outlive its use)."""

    CAPTCHA = "captcha"  # the picture on offer
    CONFLICT = "conflict"  # the conflict token and the sessions listed with it
    PASSWORD = "password"  # noqa: S105 - the password typed (or read) for the sign-in


_NONE: frozenset[Kept] = frozenset()
_PASSWORD = frozenset({Kept.PASSWORD})

# What each state keeps. The password stays while signed in only where the kind renews a spent
# session with it (``Context.silent_reauth``), or no session was made yet (a retried sign-in).
KEPT: Mapping[State, frozenset[Kept]] = {
    S.SIGNED_OUT: _NONE,
    S.SIGNING_IN: frozenset({Kept.CONFLICT, Kept.PASSWORD}),
    S.CAPTCHA_REQUIRED: frozenset({Kept.CAPTCHA, Kept.PASSWORD}),
    S.LIMIT_REACHED: frozenset({Kept.CONFLICT, Kept.PASSWORD}),
    S.SIGNED_IN: _PASSWORD,
    S.RECONNECTING: _PASSWORD,
    S.ENDED: _NONE,
    S.ERROR: _NONE,
}


class SignInPlan(StrEnum):
    """What a sign-in request means in the current state."""

    CHECK = "check"  # already signed in there and nothing new was typed: look again instead
    BUSY = "busy"  # a sign-in is under way: refuse
    SIGN_OUT_FIRST = "sign_out_first"  # a session or another server's sign-in ends first
    # a session is held on another server: that server must answer before the session ends
    # (the daemon asks it for its description), so a switch to a server that is down, refuses
    # its certificate or is not a VMS server keeps the seat in use
    SWITCH = "switch"
    SIGN_IN = "sign_in"


class Hold(StrEnum):
    """What lets the daemon list or end the account's sessions now."""

    NOTHING = "nothing"
    CONFLICT = "conflict"  # no free seat: the conflict token (ending one finishes the sign-in)
    SESSION = "session"  # signed in
    UNCONFIRMED = "unconfirmed"  # a session the server has not confirmed since it went silent


@dataclass(frozen=True)
class View:
    """The engine's part of a Snapshot."""

    state: State
    in_use: int | None
    max_sessions: int | None
    expires_in: float | None
    failure: Failure | None
    ended_by: str | None
    waiting_for_seat: bool
    # A handover asked of this session: seconds until the server ends it, and for whom.
    handover_in: float | None = None
    handover_by: str = ""
    queue_position: int | None = None
    # At the limit, a handover may be asked of a session that holds a seat (the daemon adds
    # whether the server offers handovers at all).
    can_hand_over: bool = False
    # We asked the session of ``asked_of`` to hand over: seconds until the server ends it.
    asked_in: float | None = None
    asked_of: str = ""


_WORKING = (S.SIGNED_IN, S.RECONNECTING)
# A sign-in that waits for a seat goes round these while it waits (a retry, a captcha).
_ASKING = (S.LIMIT_REACHED, S.SIGNING_IN, S.CAPTCHA_REQUIRED)


class Engine:
    def __init__(self, policy: EnginePolicy | None = None) -> None:
        self.policy = policy or EnginePolicy()
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
        handler = HANDLERS[type(event)]
        target, ctx, effects = handler(self.policy, self._state, self._ctx, event, now)
        if target not in allowed:  # a bug in a handler, never a user error
            raise AssertionError(f"{type(event).__name__} led {self._state} to {target}")
        if not isinstance(event, AccessExpired | Refreshed):
            # A renewal is owed only to the refresh and the poll it asked for.
            ctx = replace(ctx, renewal=None)
        if target not in _WORKING:
            # A handover is asked of a live session; once it is gone, so is the countdown.
            ctx = replace(ctx, handover_at=None, handover_by="")
        if target not in _ASKING:
            # Signed in (the seat came), signed out, an error: nothing is awaited any more.
            ctx = replace(ctx, asked_at=None, asked_of="")
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
            failure=c.failure,
            ended_by=c.ended_by,
            # A captcha asked by a seat retry stops the retries until the user answers it.
            waiting_for_seat=c.waiting and self._state is not S.CAPTCHA_REQUIRED,
            handover_in=None if c.handover_at is None else max(0.0, c.handover_at - now),
            handover_by=c.handover_by,
            queue_position=c.queue_position if self._state is S.LIMIT_REACHED else None,
            can_hand_over=self._state is S.LIMIT_REACHED,
            asked_in=None if c.asked_at is None else max(0.0, c.asked_at - now),
            asked_of=c.asked_of,
        )

    # --- questions the daemon asks before it acts ---

    def plan_sign_in(self, same_server: bool, password_given: bool) -> SignInPlan:
        """A sign-in to ``same_server`` (the one in use?), with or without a typed password."""
        s, working = self._state, self._state in _WORKING
        if working and same_server and not password_given and self._ctx.has_session:
            return SignInPlan.CHECK
        if s is S.SIGNING_IN:
            return SignInPlan.BUSY
        if working and not same_server and self._ctx.has_session:
            return SignInPlan.SWITCH
        # Retrying a sign-in with what was typed, or leaving a sign-in under way elsewhere.
        if working or (not same_server and s is not S.SIGNED_OUT):
            return SignInPlan.SIGN_OUT_FIRST
        return SignInPlan.SIGN_IN

    def hold(self) -> Hold:
        if self._state is S.LIMIT_REACHED:
            return Hold.CONFLICT
        if not self._ctx.has_session:
            return Hold.NOTHING
        return Hold.SESSION if self._state is S.SIGNED_IN else Hold.UNCONFIRMED

    def keeps(self) -> frozenset[Kept]:
        kept = KEPT[self._state]
        if self._state in _WORKING and self._ctx.has_session and not self._ctx.silent_reauth:
            return kept - _PASSWORD
        return kept
