"""The rows of the session table: what each event does in each state (the next context, the
effects), driven through the engine as the daemon drives it."""

from __future__ import annotations

import random

import pytest

from tests.unit.session.helpers import (
    NOW,
    kinds,
    make,
    net,
    notes,
    other,
    scheduled,
    withdrawn,
    wrong,
)
from vms_tray.session import engine as E
from vms_tray.session.effects import CAPTCHA_EACH_TRY, WAITING
from vms_tray.session.failures import Failure, FailureKind
from vms_tray.session.policies import EnginePolicy, Timing
from vms_tray.session.snapshot import State

S = State


def test_sign_in_success_schedules_refresh_within_window_and_poll() -> None:
    engine = make(S.SIGNING_IN)
    effects = engine.handle(E.SignInSucceeded(expires_in=900, in_use=1, max_sessions=3), NOW)
    refresh_at = scheduled(effects, E.Timer.REFRESH)
    assert refresh_at is not None and NOW + 450 <= refresh_at <= NOW + 630
    assert scheduled(effects, E.Timer.POLL) == NOW + 60
    assert notes(effects) == []
    view = engine.view(NOW + 100)
    assert view.state is S.SIGNED_IN and view.expires_in == 800
    assert (view.in_use, view.max_sessions) == (1, 3)


def test_one_warning_per_crossing_not_per_poll() -> None:
    engine = make(S.SIGNED_IN)  # 1 of 3
    seen: list[E.Topic] = []
    for in_use in (1, 2, 2, 2, 3, 3, 2, 3, 1, 1, 2):
        seen += notes(engine.handle(E.Polled(in_use, 3), NOW))
    assert seen == [
        E.Topic.NEAR_LIMIT,  # 2 of 3
        E.Topic.LIMIT_FULL,  # 3 of 3
        E.Topic.LIMIT_FULL,  # full again after 2
        E.Topic.BACK_UNDER,  # 1 of 3
        E.Topic.NEAR_LIMIT,  # 2 of 3 again
    ]


def test_warn_margin_is_configurable() -> None:
    engine = E.Engine(EnginePolicy(Timing(warn_margin=2), random.Random(0)))
    engine.handle(E.SignInRequested(), NOW)
    effects = engine.handle(E.SignInSucceeded(900, 3, 5), NOW)
    assert notes(effects) == [E.Topic.NEAR_LIMIT]


def test_network_fault_keeps_session_and_backs_off_capped() -> None:
    engine = make(S.SIGNED_IN)
    effects = engine.handle(E.NetworkFailed(net("timed out")), NOW)
    assert notes(effects) == []  # a quick retry comes first: a blip is not news
    assert E.Cancel(E.Timer.REFRESH) in effects and E.DropSession() not in effects
    delays = []
    for i in range(12):
        retry_at = scheduled(effects, E.Timer.RETRY)
        assert retry_at is not None
        delays.append(retry_at - NOW)
        effects = engine.handle(E.RetryDue(), NOW)
        assert effects[-1] == E.Probe(refresh=False)
        effects = engine.handle(E.NetworkFailed(net("timed out")), NOW)
        # The outage outlasted the quick retry: told once, not at every attempt.
        assert notes(effects) == ([E.Topic.UNREACHABLE] if i == 0 else [])
    assert delays[0] <= 2 and delays[3] > delays[0]
    assert max(delays) <= 300 and delays[-1] >= 150
    effects = engine.handle(E.ServerAnswered(1, 3), NOW)
    assert engine.state is S.SIGNED_IN
    assert notes(effects) == [E.Topic.BACK_ONLINE]


def test_retry_after_is_honoured() -> None:
    engine = make(S.SIGNED_IN)
    effects = engine.handle(E.NetworkFailed(net("busy"), retry_after=120), NOW)
    assert scheduled(effects, E.Timer.RETRY) == NOW + 120
    assert notes(effects) == [E.Topic.UNREACHABLE]  # no quick retry to wait for: say so now


def test_a_blip_mended_by_the_quick_retry_makes_no_noise() -> None:
    engine = make(S.SIGNED_IN)
    notes_seen = notes(engine.handle(E.NetworkFailed(net("connection reset")), NOW))
    engine.handle(E.RetryDue(), NOW + 2)
    notes_seen += notes(engine.handle(E.ServerAnswered(1, 3), NOW + 2))
    assert engine.state is S.SIGNED_IN and notes_seen == []


def test_reconnect_probe_refreshes_when_token_spent() -> None:
    engine = make(S.SIGNED_IN)
    engine.handle(E.NetworkFailed(net("down")), NOW)
    engine.handle(E.RetryDue(), NOW + 2)
    engine.handle(E.NetworkFailed(net("down")), NOW + 2)  # lasting: the user is told
    effects = engine.handle(E.RetryDue(), NOW + 2000)
    assert E.Probe(refresh=True) in effects
    effects = engine.handle(E.Refreshed(900), NOW + 2000)
    assert engine.state is S.SIGNED_IN and notes(effects) == [E.Topic.BACK_ONLINE]


def test_network_failure_while_signing_in_retries_sign_in() -> None:
    engine = make(S.SIGNING_IN)
    effects = engine.handle(E.NetworkFailed(net("refused")), NOW)
    assert engine.state is S.RECONNECTING and notes(effects) == []
    effects = engine.handle(E.RetryDue(), NOW + 5)
    assert engine.state.value == "signing_in" and E.StartSignIn() in effects


def test_ended_elsewhere_notifies_device_and_does_not_sign_in_again() -> None:
    engine = make(S.SIGNED_IN)
    effects = engine.handle(E.SessionLost("ended", "OPS-PC-12 (vms-tray 1.0)"), NOW)
    assert engine.state is S.ENDED
    assert E.Notify(E.Topic.ENDED_ELSEWHERE, detail="OPS-PC-12 (vms-tray 1.0)") in effects
    assert E.StartSignIn() not in effects and E.DropSession() in effects
    assert engine.view(NOW).ended_by == "OPS-PC-12 (vms-tray 1.0)"


def test_refresh_expired_silent_reauth_and_rejected_password() -> None:
    engine = E.Engine(EnginePolicy(rng=random.Random(0)))
    engine.handle(E.SignInRequested(silent_reauth=True), NOW)
    engine.handle(E.SignInSucceeded(900), NOW)
    effects = engine.handle(E.RefreshExpired(), NOW)
    assert engine.state is S.SIGNING_IN and E.StartSignIn() in effects and notes(effects) == []
    effects = engine.handle(E.SignInRejected(wrong("password refused")), NOW)
    assert notes(effects) == [E.Topic.PASSWORD_REJECTED]


def test_refresh_expired_without_silent_reauth_ends() -> None:
    engine = make(S.SIGNED_IN)
    effects = engine.handle(E.RefreshExpired(), NOW)
    assert engine.state is S.ENDED and notes(effects) == [E.Topic.SESSION_EXPIRED]


def test_limit_conflict_wait_retries_quietly_then_signs_in() -> None:
    engine = make(S.SIGNING_IN)
    effects = engine.handle(E.LimitHit(3, 3), NOW)
    assert notes(effects) == [E.Topic.LIMIT_CONFLICT]
    effects = engine.handle(E.WaitChosen(), NOW)
    at = scheduled(effects, E.Timer.SEAT)
    assert at is not None and NOW + 24 <= at <= NOW + 36
    # "End one or wait" is answered: its critical notice does not stay on screen while we wait.
    assert E.Withdraw(E.Subject.SIGN_IN) in effects
    assert engine.view(NOW).waiting_for_seat
    for _ in range(3):
        assert E.StartSignIn(waiting=True) in engine.handle(E.SeatRetryDue(), NOW)
        effects = engine.handle(E.LimitHit(3, 3, retry_after=40), NOW)
        assert notes(effects) == [] and scheduled(effects, E.Timer.SEAT) == NOW + 40
    engine.handle(E.SeatRetryDue(), NOW)
    effects = engine.handle(E.SignInSucceeded(900, 3, 3), NOW)
    assert E.Topic.SEAT_FREED in notes(effects)
    assert not engine.view(NOW).waiting_for_seat


def test_a_seat_retry_that_meets_a_captcha_asks_once_and_never_loops() -> None:
    # issue 10 item 7: the server asks for a captcha at every sign-in (AIPIX with its captcha
    # on): the wait asks the user, and the answered try that meets the limit ends the wait.
    engine = make(S.LIMIT_REACHED)
    engine.handle(E.WaitChosen(), NOW)
    engine.handle(E.SeatRetryDue(), NOW)
    effects = engine.handle(E.CaptchaNeeded(), NOW)
    assert [x for x in effects if isinstance(x, E.Notify)] == [
        E.Notify(E.Topic.CAPTCHA, detail=WAITING)
    ]
    assert engine.state is S.CAPTCHA_REQUIRED and scheduled(effects, E.Timer.SEAT) is None
    # No retry is due while the captcha waits for the user, and none claims to be under way.
    assert not engine.view(NOW).waiting_for_seat
    engine.handle(E.CaptchaAnswered(), NOW)
    assert notes(engine.handle(E.CaptchaNeeded("invalid"), NOW)) == [E.Topic.CAPTCHA]
    engine.handle(E.CaptchaAnswered(), NOW)
    effects = engine.handle(E.LimitHit(3, 3), NOW)
    assert [x for x in effects if isinstance(x, E.Notify)] == [
        E.Notify(E.Topic.LIMIT_CONFLICT, 3, 3, detail=CAPTCHA_EACH_TRY)
    ]
    assert scheduled(effects, E.Timer.SEAT) is None and E.Cancel(E.Timer.SEAT) in effects
    view = engine.view(NOW)
    assert view.state is S.LIMIT_REACHED and not view.waiting_for_seat
    # Waiting again is the user's choice, and asks once more; a seat then signs in.
    engine.handle(E.WaitChosen(), NOW)
    engine.handle(E.SeatRetryDue(), NOW)
    effects = engine.handle(E.CaptchaNeeded(), NOW)
    assert E.Notify(E.Topic.CAPTCHA, detail=WAITING) in effects
    engine.handle(E.CaptchaAnswered(), NOW)
    assert notes(engine.handle(E.SignInSucceeded(900, 3, 3), NOW)) == [E.Topic.SEAT_FREED]


def test_end_one_session_finishes_with_conflict_token() -> None:
    engine = make(S.LIMIT_REACHED)
    effects = engine.handle(E.EndSessionChosen("abc"), NOW)
    assert engine.state is S.SIGNING_IN and E.FinishSignIn("abc") in effects


def test_cancel_wait() -> None:
    engine = make(S.LIMIT_REACHED)
    engine.handle(E.WaitChosen(), NOW)
    # Nothing is awaited any more: a notice about the wait (a handover asked) goes too.
    assert engine.handle(E.WaitCancelled(), NOW) == [
        E.Cancel(E.Timer.SEAT),
        E.Withdraw(E.Subject.SIGN_IN),
    ]
    assert not engine.view(NOW).waiting_for_seat
    assert engine.handle(E.CheckNowRequested(), NOW) == []


def test_a_handover_we_asked_for_is_waited_for_until_the_seat_comes() -> None:
    engine = make(S.LIMIT_REACHED)
    effects = engine.handle(E.WaitChosen(handover_in=60.0, handover_of="OPS-PC-12"), NOW)
    assert E.Notify(E.Topic.HANDOVER_REQUESTED, detail="OPS-PC-12", seconds=60.0) in effects
    view = engine.view(NOW + 10)
    assert view.waiting_for_seat and view.asked_in == 50.0 and view.asked_of == "OPS-PC-12"
    # A seat retry goes round SIGNING_IN and back: still waiting for that handover.
    engine.handle(E.SeatRetryDue(), NOW + 30)
    assert engine.view(NOW + 30).asked_of == "OPS-PC-12"
    engine.handle(E.SignInSucceeded(300.0, 2, 2), NOW + 40)
    assert engine.view(NOW + 40).asked_in is None  # signed in: nothing awaited


def test_sign_out_frees_seat_only_with_a_session() -> None:
    engine = make(S.SIGNED_IN)
    assert E.SignOutRemote() in engine.handle(E.SignOutRequested(), NOW)
    engine = make(S.LIMIT_REACHED)
    assert E.SignOutRemote() not in engine.handle(E.SignOutRequested(), NOW)
    assert engine.state is S.SIGNED_OUT


def test_check_now_after_long_suspend_refreshes_at_once() -> None:
    engine = make(S.SIGNED_IN)
    effects = engine.handle(E.CheckNowRequested(), NOW + 3600)
    assert E.Poll() in effects and scheduled(effects, E.Timer.REFRESH) == NOW + 3600
    effects = engine.handle(E.CheckNowRequested(), NOW + 10)
    assert E.Poll() in effects and scheduled(effects, E.Timer.REFRESH) is None


def test_captcha_notifies_once_and_reasons_show() -> None:
    engine = make(S.SIGNING_IN)
    assert notes(engine.handle(E.CaptchaNeeded(), NOW)) == [E.Topic.CAPTCHA]
    assert notes(engine.handle(E.CaptchaNeeded("expired"), NOW)) == []
    engine.handle(E.CaptchaAnswered(), NOW)
    engine.handle(E.CaptchaNeeded("invalid"), NOW)
    assert engine.view(NOW).failure is None  # the reason is the captcha's, not an error


def test_failed_drops_session() -> None:
    engine = make(S.SIGNED_IN)
    effects = engine.handle(E.Failed(other("certificate changed")), NOW)
    assert engine.state is S.ERROR and E.DropSession() in effects
    assert engine.view(NOW).failure == other("certificate changed")
    assert engine.view(NOW).expires_in is None


# --- which notice goes, and when (Withdraw) ---------------------------------------------------


def test_ending_a_session_at_the_limit_is_not_announced_as_limit_reached() -> None:
    engine = make(S.SIGNING_IN)
    assert notes(engine.handle(E.LimitHit(3, 3), NOW)) == [E.Topic.LIMIT_CONFLICT]
    engine.handle(E.EndSessionChosen("abc"), NOW)
    effects = engine.handle(E.SignInSucceeded(900, 3, 3), NOW)  # our seat replaced the one ended
    assert engine.state is S.SIGNED_IN
    assert notes(effects) == []
    # "No free session" is over: the user signed in.
    assert E.Subject.SIGN_IN in withdrawn(effects)


def test_a_freed_seat_replaces_no_free_session_without_limit_reached() -> None:
    engine = make(S.LIMIT_REACHED)
    engine.handle(E.WaitChosen(), NOW)
    engine.handle(E.SeatRetryDue(), NOW)
    effects = engine.handle(E.SignInSucceeded(900, 3, 3), NOW)
    assert notes(effects) == [E.Topic.SEAT_FREED]  # on the sign-in subject: replaces the conflict
    assert E.Notify(E.Topic.SEAT_FREED).subject is E.Subject.SIGN_IN
    assert E.Subject.SIGN_IN not in withdrawn(effects)


def test_a_plain_sign_in_to_a_full_account_still_says_so() -> None:
    engine = make(S.SIGNING_IN)
    assert notes(engine.handle(E.SignInSucceeded(900, 3, 3), NOW)) == [E.Topic.LIMIT_FULL]


def test_signed_in_again_withdraws_what_stood_in_the_way() -> None:
    engine = make(S.ENDED)  # "signed out" (ended elsewhere) is on screen
    engine.handle(E.SignInRequested(), NOW)
    engine.handle(E.CaptchaNeeded(), NOW)  # "captcha required" replaces nothing of it
    engine.handle(E.CaptchaAnswered(), NOW)
    effects = engine.handle(E.SignInSucceeded(900, 1, 3), NOW)
    assert set(withdrawn(effects)) == {E.Subject.SIGN_IN, E.Subject.SESSION, E.Subject.NETWORK}


def test_back_online_replaces_does_not_answer() -> None:
    engine = make(S.SIGNED_IN)
    engine.handle(E.NetworkFailed(net("refused")), NOW)
    engine.handle(E.RetryDue(), NOW)
    assert notes(engine.handle(E.NetworkFailed(net("refused")), NOW)) == [E.Topic.UNREACHABLE]
    engine.handle(E.RetryDue(), NOW)
    effects = engine.handle(E.ServerAnswered(1, 3), NOW)
    assert notes(effects) == [E.Topic.BACK_ONLINE]
    assert E.Notify(E.Topic.BACK_ONLINE).subject is E.Notify(E.Topic.UNREACHABLE).subject


@pytest.mark.parametrize(
    ("event", "state"),
    [
        (E.SessionLost("ended", "OPS-PC-12 (vms-tray 1.0)"), S.ENDED),
        (E.RefreshExpired(), S.ENDED),
        (E.Failed(other("certificate changed")), S.ERROR),
    ],
)
def test_losing_the_session_withdraws_seat_and_network_notices(
    event: E.Event, state: State
) -> None:
    engine = make(S.SIGNED_IN)
    effects = engine.handle(event, NOW)
    assert engine.state is state
    assert {E.Subject.SEATS, E.Subject.NETWORK} <= set(withdrawn(effects))
    # The withdrawals come before the notice that says why, which may share none of them.
    last_withdraw = max(i for i, x in enumerate(effects) if isinstance(x, E.Withdraw))
    assert isinstance(effects[-1], E.Notify) and last_withdraw < len(effects) - 1


@pytest.mark.parametrize("state", [S.SIGNED_IN, S.LIMIT_REACHED, S.CAPTCHA_REQUIRED, S.ENDED])
def test_signing_out_withdraws_every_notice(state: State) -> None:
    effects = make(state).handle(E.SignOutRequested(), NOW)
    assert set(withdrawn(effects)) == set(E.Subject)


def test_polls_withdraw_nothing() -> None:
    engine = make(S.SIGNED_IN)
    for n in (2, 3, 1):
        assert withdrawn(engine.handle(E.Polled(n, 3), NOW)) == []


# --- an expired access token met by a poll (the daemon used to refresh on its own) -----------


def test_an_expired_access_token_asks_a_refresh_then_the_poll_again() -> None:
    engine = make(S.SIGNED_IN)
    assert engine.handle(E.AccessExpired(), NOW) == [E.Refresh()]
    assert engine.state is S.SIGNED_IN
    effects = engine.handle(E.Refreshed(900), NOW)
    assert E.Poll() in effects and scheduled(effects, E.Timer.REFRESH) is not None
    effects = engine.handle(E.Polled(1, 3), NOW)
    assert engine.state is S.SIGNED_IN and engine.context.renewal is None


def test_an_access_token_expired_again_after_its_refresh_ends_the_session() -> None:
    engine = make(S.SIGNED_IN)
    engine.handle(E.AccessExpired(), NOW)
    engine.handle(E.Refreshed(900), NOW)
    effects = engine.handle(E.AccessExpired(), NOW)
    assert engine.state is S.ENDED and notes(effects) == [E.Topic.SESSION_EXPIRED]
    assert E.DropSession() in effects


def test_a_later_expiry_is_a_new_one_after_a_poll_answered() -> None:
    engine = make(S.SIGNED_IN)
    engine.handle(E.AccessExpired(), NOW)
    engine.handle(E.Refreshed(900), NOW)
    engine.handle(E.Polled(1, 3), NOW)
    assert engine.handle(E.AccessExpired(), NOW + 60) == [E.Refresh()]


def test_a_plain_refresh_asks_no_poll() -> None:
    engine = make(S.SIGNED_IN)
    assert E.Poll() not in engine.handle(E.Refreshed(900), NOW)


def test_a_probe_that_meets_an_expired_token_comes_back_online_through_the_refresh() -> None:
    engine = make(S.RECONNECTING)
    assert engine.handle(E.AccessExpired(), NOW) == [E.Refresh()]
    before = engine.state
    effects = engine.handle(E.Refreshed(900), NOW)
    assert (before, engine.state) == (S.RECONNECTING, S.SIGNED_IN) and E.Poll() in effects


def test_a_refresh_that_fails_forgets_the_owed_poll() -> None:
    engine = make(S.SIGNED_IN)
    engine.handle(E.AccessExpired(), NOW)
    engine.handle(E.NetworkFailed(net("down")), NOW)
    engine.handle(E.RetryDue(), NOW + 5)
    assert E.Poll() not in engine.handle(E.Refreshed(900), NOW + 5)


def test_silent_reauth_kinds_sign_in_again_when_the_access_token_stays_expired() -> None:
    engine = E.Engine(EnginePolicy(Timing(), random.Random(1)))
    engine.handle(E.SignInRequested(silent_reauth=True), NOW)
    engine.handle(E.SignInSucceeded(900), NOW)
    engine.handle(E.AccessExpired(), NOW)
    engine.handle(E.Refreshed(900), NOW)
    effects = engine.handle(E.AccessExpired(), NOW)
    assert engine.state is S.SIGNING_IN and E.StartSignIn() in effects


# --- a certificate incident (issue 14 item 7) ---------------------------------------------------


def test_a_changed_certificate_keeps_the_session_and_resumes_it() -> None:
    """A pin mismatch during keep-alive used to end in ERROR and drop the tokens, so the next
    sign-in took a second seat. Now the session is kept, retried on the backoff, and the same
    session resumes once the pinned certificate is back."""
    changed = Failure(FailureKind.CHANGED, "the certificate of HQ is not the pinned one")
    engine = make(S.SIGNED_IN)
    effects = engine.handle(E.TrustFailed(changed), NOW)
    assert engine.state is S.RECONNECTING
    assert engine.view(NOW).failure == changed
    assert E.DropSession not in kinds(effects)
    assert notes(effects) == [E.Topic.UNTRUSTED]  # at once: it may be an attack
    first = scheduled(effects, E.Timer.RETRY)
    assert first is not None and first > NOW
    # Still the wrong certificate: try again later, without a second notice.
    engine.handle(E.RetryDue(), first)
    again = engine.handle(E.TrustFailed(changed), first)
    assert notes(again) == []
    second = scheduled(again, E.Timer.RETRY)
    assert second is not None and second - first >= first - NOW  # the backoff grows
    # The pinned certificate is back: the probe answers and the same session goes on.
    probe = engine.handle(E.RetryDue(), second)
    assert E.Probe in kinds(probe)
    back = engine.handle(E.ServerAnswered(1, 3), second)
    assert engine.view(second).state is S.SIGNED_IN
    assert engine.view(second).failure is None
    assert notes(back) == [E.Topic.BACK_ONLINE]
    assert E.StartSignIn not in kinds(probe + back)  # no new sign-in, no second seat


def test_a_server_away_then_back_with_another_certificate_says_so() -> None:
    """A server restarted with another certificate is first unreachable ("does not answer",
    told once the outage lasts), then presents the new certificate: that is news too, told at
    once though the outage was; then no more notices while it lasts (found by the real-process
    test in tests/integration/daemon/test_daemon_live.py)."""
    engine = make(S.SIGNED_IN)
    down = Failure(FailureKind.UNREACHABLE, "cannot reach HQ (connection refused)")
    first = engine.handle(E.NetworkFailed(down), NOW)
    engine.handle(E.RetryDue(), NOW + 1)
    assert notes(engine.handle(E.NetworkFailed(down), NOW + 1)) == [E.Topic.UNREACHABLE]
    assert notes(first) == []  # a blip is not worth a pop-up
    changed = Failure(FailureKind.CHANGED, "the certificate of HQ is not the pinned one")
    engine.handle(E.RetryDue(), NOW + 2)
    assert notes(engine.handle(E.TrustFailed(changed), NOW + 2)) == [E.Topic.UNTRUSTED]
    engine.handle(E.RetryDue(), NOW + 4)
    assert notes(engine.handle(E.TrustFailed(changed), NOW + 4)) == []
    assert engine.state is S.RECONNECTING and engine.view(NOW + 4).failure == changed


# --- protocol v1.1: the events stream and handovers ----------------------------------------------


def test_a_live_stream_stretches_polling_to_the_safety_net_and_back() -> None:
    engine = make(S.SIGNED_IN)
    assert scheduled(engine.handle(E.StreamChanged(live=True), NOW), E.Timer.POLL) == NOW + 600
    # Polls while live keep the slow pace; a check the stream asked for is answered at once.
    assert scheduled(engine.handle(E.Polled(1, 3), NOW), E.Timer.POLL) == NOW + 600
    assert E.Poll() in engine.handle(E.CheckNowRequested(), NOW)
    assert scheduled(engine.handle(E.StreamChanged(live=False), NOW), E.Timer.POLL) == NOW + 60
    assert scheduled(engine.handle(E.Polled(1, 3), NOW), E.Timer.POLL) == NOW + 60


def test_the_stream_outlives_a_sign_in_but_not_its_own_report() -> None:
    engine = make(S.SIGNED_OUT)
    assert engine.handle(E.StreamChanged(live=True), NOW) == []
    engine.handle(E.SignInRequested(), NOW)
    effects = engine.handle(E.SignInSucceeded(expires_in=900), NOW)
    assert scheduled(effects, E.Timer.POLL) == NOW + 600
    assert engine.handle(E.StreamChanged(live=True), NOW) == []  # no news: nothing to do


def test_a_handover_is_announced_once_with_its_countdown_and_shown_in_the_view() -> None:
    engine = make(S.SIGNED_IN)
    effects = engine.handle(E.Polled(1, 1, handover_in=60, handover_by="OPS-PC-13"), NOW)
    (note,) = [e for e in effects if isinstance(e, E.Notify) and e.topic is E.Topic.HANDOVER_ASKED]
    assert (note.topic, note.detail, note.seconds) == (E.Topic.HANDOVER_ASKED, "OPS-PC-13", 60)
    assert note.subject is E.Subject.SESSION
    # The same handover polled again (its deadline nearer): no second notice.
    assert (
        notes(engine.handle(E.Polled(1, 1, handover_in=45, handover_by="OPS-PC-13"), NOW + 15))
        == []
    )
    view = engine.view(NOW + 20)
    assert (view.handover_in, view.handover_by) == (40, "OPS-PC-13")


def test_a_new_handover_deadline_is_announced_and_a_gone_one_forgotten() -> None:
    engine = make(S.SIGNED_IN)
    engine.handle(E.Polled(1, 1), NOW)  # full: its own notice, once
    engine.handle(E.Polled(1, 1, handover_in=60, handover_by="A"), NOW)
    assert notes(engine.handle(E.Polled(1, 1, handover_in=60, handover_by="B"), NOW + 300)) == [
        E.Topic.HANDOVER_ASKED
    ]
    engine.handle(E.Polled(1, 1), NOW + 310)
    assert engine.view(NOW + 310).handover_in is None


def test_the_end_of_a_handed_over_session_clears_its_countdown() -> None:
    engine = make(S.SIGNED_IN)
    engine.handle(E.Polled(1, 1, handover_in=60, handover_by="OPS-PC-13"), NOW)
    engine.handle(E.SessionLost("handed over", "OPS-PC-13 (vms-tray 1.0)"), NOW + 60)
    view = engine.view(NOW + 60)
    assert view.state is S.ENDED and view.handover_in is None and view.handover_by == ""


def test_a_spent_conflict_token_starts_the_sign_in_again_with_the_password() -> None:
    engine = make(S.LIMIT_REACHED)
    engine.handle(E.WaitChosen(), NOW)
    assert engine.handle(E.SeatRetryDue(), NOW + 30) == [E.StartSignIn(waiting=True)]
    assert engine.handle(E.ConflictExpired(), NOW + 30) == [E.StartSignIn(waiting=False)]
    assert engine.state is S.SIGNING_IN
