"""Random event sequences against the engine: the invariants hold whatever the order."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from vms_tray.errors import IllegalTransition
from vms_tray.session import engine as E
from vms_tray.session.failures import Failure, FailureKind
from vms_tray.session.policies import EnginePolicy, Level, Timing
from vms_tray.session.snapshot import State

LIMIT_TOPICS = {E.Topic.NEAR_LIMIT, E.Topic.LIMIT_FULL, E.Topic.BACK_UNDER}
QUIET_STATES = {State.SIGNED_OUT, State.ENDED, State.ERROR}

counts = st.integers(min_value=0, max_value=4)
maxima = st.one_of(st.none(), st.integers(min_value=1, max_value=4))
failures = st.builds(Failure, st.sampled_from(FailureKind), st.text(max_size=5))
events = st.one_of(
    st.builds(E.SignInRequested, st.booleans()),
    st.builds(E.SignInSucceeded, st.floats(10, 3600), counts, maxima),
    st.builds(E.CaptchaNeeded, st.sampled_from(["required", "invalid", "expired"])),
    st.just(E.CaptchaAnswered()),
    st.builds(E.LimitHit, counts, maxima, st.one_of(st.none(), st.floats(0, 600))),
    st.builds(E.EndSessionChosen, st.text(min_size=1, max_size=4)),
    st.just(E.WaitChosen()),
    st.just(E.WaitCancelled()),
    st.just(E.SeatRetryDue()),
    st.builds(E.SignInRejected, failures),
    st.builds(E.NetworkFailed, failures, st.one_of(st.none(), st.floats(0, 600))),
    st.just(E.RetryDue()),
    st.builds(E.ServerAnswered, st.one_of(st.none(), counts), maxima),
    st.just(E.RefreshDue()),
    st.builds(E.Refreshed, st.floats(10, 3600)),
    st.just(E.PollDue()),
    st.builds(E.Polled, st.one_of(st.none(), counts), maxima),
    st.builds(E.SessionLost, st.text(max_size=5), st.one_of(st.none(), st.text(max_size=5))),
    st.just(E.RefreshExpired()),
    st.just(E.AccessExpired()),
    st.just(E.CheckNowRequested()),
    st.just(E.SignOutRequested()),
    st.builds(E.Failed, failures),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(events, st.floats(0, 4000)), max_size=60), st.integers(0, 2**16))
def test_invariants_hold_for_any_sequence(steps: list[tuple[E.Event, float]], seed: int) -> None:
    engine = E.Engine(EnginePolicy(Timing(), random.Random(seed)))
    now = 0.0
    pending: set[E.Timer] = set()
    for event, dt in steps:
        now += dt
        before = (engine.state, engine.context)
        if not engine.accepts(event):
            try:
                engine.handle(event, now)
            except IllegalTransition:
                pass
            else:
                raise AssertionError("an event outside the table was accepted")
            assert (engine.state, engine.context) == before
            continue
        old_level = engine.context.level
        effects = engine.handle(event, now)
        assert engine.state in E.TRANSITIONS[before[0]][type(event)]
        for effect in effects:
            if isinstance(effect, E.Schedule):
                assert effect.at >= now  # never in the past
                pending.add(effect.timer)
            elif isinstance(effect, E.Cancel):
                pending.discard(effect.timer)
        ctx = engine.context
        # Nothing keeps running once there is no session and nothing to wait for.
        if engine.state in QUIET_STATES:
            assert pending == set(), (engine.state, pending)
            assert not ctx.has_session and not ctx.waiting
        if engine.state is State.SIGNED_OUT:
            assert ctx == E.Context(silent_reauth=ctx.silent_reauth)
        # A seat is waited for only at the limit.
        if ctx.waiting:
            assert engine.state in (State.LIMIT_REACHED, State.SIGNING_IN)
        # A limit notice only when the warning level really changed.
        limit_notes = [x for x in effects if isinstance(x, E.Notify) and x.topic in LIMIT_TOPICS]
        assert len(limit_notes) <= 1
        if limit_notes:
            assert ctx.level != old_level
            expected = {
                Level.NEAR: E.Topic.NEAR_LIMIT,
                Level.FULL: E.Topic.LIMIT_FULL,
                Level.UNDER: E.Topic.BACK_UNDER,
            }[ctx.level]
            assert limit_notes[0].topic is expected
        view = engine.view(now)
        assert view.expires_in is None or (ctx.has_session and view.expires_in >= 0)
