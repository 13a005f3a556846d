"""The session state machine: every transition in the table, and every pair that is not."""

from __future__ import annotations

import random

import pytest

from tests.unit.session.helpers import NOW, PATHS, make, net, other, wrong
from vms_tray.errors import IllegalTransition
from vms_tray.session import engine as E
from vms_tray.session.failures import Failure, FailureKind
from vms_tray.session.policies import EnginePolicy, Timing
from vms_tray.session.snapshot import State

S = State


# One representative instance per event type (the table is keyed by type).
SAMPLES: dict[type[E.Event], E.Event] = {
    E.SignInRequested: E.SignInRequested(),
    E.SignInSucceeded: E.SignInSucceeded(expires_in=900, in_use=1, max_sessions=3),
    E.CaptchaNeeded: E.CaptchaNeeded(),
    E.CaptchaAnswered: E.CaptchaAnswered(),
    E.LimitHit: E.LimitHit(in_use=3, max_sessions=3),
    E.EndSessionChosen: E.EndSessionChosen("s-1"),
    E.WaitChosen: E.WaitChosen(),
    E.WaitCancelled: E.WaitCancelled(),
    E.SeatRetryDue: E.SeatRetryDue(),
    E.SignInRejected: E.SignInRejected(wrong("wrong password")),
    E.NetworkFailed: E.NetworkFailed(net("connection refused")),
    E.TrustFailed: E.TrustFailed(Failure(FailureKind.CHANGED, "the certificate changed")),
    E.RetryDue: E.RetryDue(),
    E.ServerAnswered: E.ServerAnswered(),
    E.RefreshDue: E.RefreshDue(),
    E.Refreshed: E.Refreshed(expires_in=900),
    E.PollDue: E.PollDue(),
    E.Polled: E.Polled(in_use=1, max_sessions=3),
    E.SessionLost: E.SessionLost("ended", "OPS-PC-12 (vms-tray 1.0)"),
    E.RefreshExpired: E.RefreshExpired(),
    E.AccessExpired: E.AccessExpired(),
    E.CheckNowRequested: E.CheckNowRequested(),
    E.StreamChanged: E.StreamChanged(live=True),
    E.SignOutRequested: E.SignOutRequested(),
    E.Failed: E.Failed(other("certificate changed")),
    E.ConflictExpired: E.ConflictExpired(),
}

# How to reach each state from a fresh engine (the shortest real path).


def test_samples_and_table_cover_every_event_and_state() -> None:
    assert set(SAMPLES) == set(E.ALL_EVENTS)
    assert set(E.TRANSITIONS) == set(State)
    assert set(PATHS) == set(State)


LEGAL = [(s, ev) for s in State for ev in E.ALL_EVENTS if ev in E.TRANSITIONS[s]]
ILLEGAL = [(s, ev) for s in State for ev in E.ALL_EVENTS if ev not in E.TRANSITIONS[s]]


@pytest.mark.parametrize(("state", "event_type"), LEGAL, ids=lambda x: getattr(x, "__name__", x))
def test_legal_transition_lands_in_an_allowed_state(
    state: State, event_type: type[E.Event]
) -> None:
    engine = make(state)
    assert engine.accepts(SAMPLES[event_type])
    engine.handle(SAMPLES[event_type], NOW + 1)
    assert engine.state in E.TRANSITIONS[state][event_type]


@pytest.mark.parametrize(("state", "event_type"), ILLEGAL, ids=lambda x: getattr(x, "__name__", x))
def test_illegal_transition_raises_and_changes_nothing(
    state: State, event_type: type[E.Event]
) -> None:
    engine = make(state)
    before = (engine.state, engine.context)
    assert not engine.accepts(SAMPLES[event_type])
    with pytest.raises(IllegalTransition) as info:
        engine.handle(SAMPLES[event_type], NOW + 1)
    assert (engine.state, engine.context) == before
    assert info.value.state == state.value
    assert info.value.event == event_type.__name__


def test_failures_reach_the_view_as_they_came() -> None:
    untrusted = Failure(FailureKind.UNTRUSTED, "not trusted", fingerprint="AB:CD")
    engine = make(S.SIGNING_IN)
    engine.handle(E.SignInRejected(untrusted), NOW)
    assert engine.view(NOW).failure == untrusted
    engine = make(S.SIGNED_IN)
    engine.handle(E.NetworkFailed(net("refused")), NOW)
    assert engine.view(NOW).failure == net("refused")
    engine.handle(E.RetryDue(), NOW + 5)
    engine.handle(E.ServerAnswered(1, 3), NOW + 5)
    assert engine.view(NOW).failure is None


# --- the questions the daemon asks ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "same", "typed", "plan"),
    [
        (S.SIGNED_IN, True, False, E.SignInPlan.CHECK),
        (S.RECONNECTING, True, False, E.SignInPlan.CHECK),
        (S.SIGNED_IN, True, True, E.SignInPlan.SIGN_OUT_FIRST),
        (S.SIGNED_IN, False, False, E.SignInPlan.SWITCH),
        (S.RECONNECTING, False, True, E.SignInPlan.SWITCH),
        (S.SIGNING_IN, True, True, E.SignInPlan.BUSY),
        (S.SIGNED_OUT, False, False, E.SignInPlan.SIGN_IN),
        (S.ERROR, True, True, E.SignInPlan.SIGN_IN),
        (S.ERROR, False, True, E.SignInPlan.SIGN_OUT_FIRST),
        (S.CAPTCHA_REQUIRED, True, True, E.SignInPlan.SIGN_IN),
    ],
)
def test_what_a_sign_in_request_means(
    state: State, same: bool, typed: bool, plan: E.SignInPlan
) -> None:
    assert make(state).plan_sign_in(same, typed) is plan


def test_reconnecting_before_any_session_signs_in_again_rather_than_checking() -> None:
    engine = make(S.SIGNING_IN)
    engine.handle(E.NetworkFailed(net("down")), NOW)
    assert engine.plan_sign_in(True, False) is E.SignInPlan.SIGN_OUT_FIRST


@pytest.mark.parametrize(
    ("state", "hold"),
    [
        (S.LIMIT_REACHED, E.Hold.CONFLICT),
        (S.SIGNED_IN, E.Hold.SESSION),
        (S.RECONNECTING, E.Hold.UNCONFIRMED),
        (S.SIGNED_OUT, E.Hold.NOTHING),
        (S.ERROR, E.Hold.NOTHING),
        (S.CAPTCHA_REQUIRED, E.Hold.NOTHING),
    ],
)
def test_what_lets_the_daemon_list_or_end_sessions(state: State, hold: E.Hold) -> None:
    assert make(state).hold() is hold


@pytest.mark.parametrize("state", list(State))
def test_a_handover_may_be_asked_at_the_limit_only(state: State) -> None:
    """The engine decides it; the daemon's snapshot only adds whether the server offers it."""
    assert make(state).view(NOW).can_hand_over is (state is S.LIMIT_REACHED)


def test_what_the_daemon_may_keep() -> None:
    K = E.Kept
    assert make(S.CAPTCHA_REQUIRED).keeps() == {K.CAPTCHA, K.PASSWORD}
    assert make(S.LIMIT_REACHED).keeps() == {K.CONFLICT, K.PASSWORD}
    assert make(S.SIGNING_IN).keeps() == {K.CONFLICT, K.PASSWORD}
    assert make(S.SIGNED_IN).keeps() == set()  # the password is spent once signed in
    assert make(S.ERROR).keeps() == set()
    engine = E.Engine(EnginePolicy(Timing(), random.Random(1)))
    engine.handle(E.SignInRequested(silent_reauth=True), NOW)
    engine.handle(E.SignInSucceeded(900), NOW)
    assert engine.keeps() == {K.PASSWORD}  # it renews a spent session
