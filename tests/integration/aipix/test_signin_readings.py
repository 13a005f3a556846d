"""The aipix kind against the simulator over TLS: the captcha (wrong, expired, refreshed), the
session choice in both captcha readings, throttling, 401/402/409/503 and the token lifetime
readings (note §3, §7)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.refserver import RefServer
from vms_tray.errors import (
    InvalidCredentials,
    LoginThrottled,
    ProtocolError,
    ServerBusy,
    SessionEnded,
    Unsupported,
)
from vms_tray.kinds.aipix import AipixServer
from vms_tray.kinds.base import ClientInfo
from vms_tray.session.records import (
    CaptchaAnswer,
    CaptchaChallenge,
    LimitConflict,
    SignedIn,
    SignInOutcome,
    Tokens,
)

from .helpers import aipix_for, simulator

pytestmark = pytest.mark.integration

DESK = ClientInfo("desk-1", "vms-tray", "0.1.0")
LAPTOP = ClientInfo("laptop-2", "vms-tray", "0.1.0")
Factory = Callable[..., RefServer]


def solve(
    server: RefServer, client: AipixServer, outcome: SignInOutcome, info: ClientInfo = DESK
) -> SignInOutcome:
    assert isinstance(outcome, CaptchaChallenge), outcome
    key = outcome.captcha.id
    return client.sign_in("anna", "pw", info, CaptchaAnswer(key, server.captcha_answer(key)))


def tokens_of(outcome: SignInOutcome) -> Tokens:
    assert isinstance(outcome, SignedIn), outcome
    return outcome.tokens


def test_captcha_wrong_expired_refreshed(refserver_factory: Factory, tmp_path: Path) -> None:
    server = simulator(refserver_factory, captcha="always")
    # The kind's clock moves with the server's: "a minute later" on both sides.
    with aipix_for(server, tmp_path, clock=lambda: time.time() + server.offset) as client:
        first = client.sign_in("anna", "pw", DESK)
        assert isinstance(first, CaptchaChallenge) and first.reason == "required"
        assert first.captcha.image_png.startswith(b"\x89PNG")
        wrong = client.sign_in("anna", "pw", DESK, CaptchaAnswer(first.captcha.id, "zzzzz"))
        assert isinstance(wrong, CaptchaChallenge) and wrong.reason == "invalid"
        server.advance_clock(61)
        key = wrong.captcha.id
        late = client.sign_in("anna", "pw", DESK, CaptchaAnswer(key, server.captcha_answer(key)))
        assert isinstance(late, CaptchaChallenge) and late.reason == "expired"
        fresh = client.new_captcha(replaces=late.captcha.id)  # the Refresh button
        answer = CaptchaAnswer(fresh.id, server.captcha_answer(fresh.id))
        tokens_of(client.sign_in("anna", "pw", DESK, answer))


@pytest.mark.parametrize("reading", ["exempt", "window"])
def test_419_choose_a_session_signs_in_and_ends_it(
    refserver_factory: Factory, tmp_path: Path, reading: str
) -> None:
    # note §3 E3 call shape 3: no captcha resent on the session_id retry (both readings)
    server = simulator(refserver_factory, f"retry_captcha={reading}", captcha="always")
    seat = aipix_for(server, tmp_path)
    held = tokens_of(solve(server, seat, seat.sign_in("anna", "pw", DESK)))
    server_b = aipix_for(server, tmp_path)
    tokens_of(solve(server, server_b, server_b.sign_in("anna", "pw", DESK)))
    late = aipix_for(server, tmp_path)
    conflict = solve(server, late, late.sign_in("anna", "pw", LAPTOP), LAPTOP)
    assert isinstance(conflict, LimitConflict)
    assert (conflict.limit.max, conflict.limit.active) == (2, 2)
    victim = next(s for s in conflict.sessions if s.id == held.session_id)
    assert victim.device == "desk-1" and victim.software == "vms-tray"
    late.end_session(conflict.conflict_token, victim.id)
    mine = tokens_of(late.finish_sign_in(conflict.conflict_token, LAPTOP))
    assert late.current_session(mine.access_token).device == "laptop-2"
    with pytest.raises(SessionEnded):
        seat.check(held)
    for client in (seat, server_b, late):
        client.close()


def test_window_reading_asks_for_a_captcha_after_the_window(
    refserver_factory: Factory, tmp_path: Path
) -> None:
    server = simulator(refserver_factory, "retry_captcha=window", captcha="always", max_sessions=1)
    with aipix_for(server, tmp_path) as seat, aipix_for(server, tmp_path) as late:
        tokens_of(solve(server, seat, seat.sign_in("anna", "pw", DESK)))
        conflict = solve(server, late, late.sign_in("anna", "pw", LAPTOP))
        assert isinstance(conflict, LimitConflict)
        server.advance_clock(61)
        late.end_session(conflict.conflict_token, conflict.sessions[0].id)
        again = late.finish_sign_in(conflict.conflict_token, LAPTOP)
        assert isinstance(again, CaptchaChallenge)


@pytest.mark.parametrize("unit", ["seconds", "milliseconds"])
def test_last_and_captcha_ttl_in_either_unit(
    refserver_factory: Factory, tmp_path: Path, unit: str
) -> None:
    # note §3 Session ``last`` [INF] and §3 E2 ``ttl`` [INF unit] (§7.7): the kind reads the
    # same minute and the same last activity whichever unit the server uses.
    server = simulator(
        refserver_factory, f"last_unit={unit}", f"captcha_ttl_unit={unit}", captcha="always"
    )
    with aipix_for(server, tmp_path) as seat, aipix_for(server, tmp_path) as late:
        first = seat.sign_in("anna", "pw", DESK)
        assert isinstance(first, CaptchaChallenge) and first.captcha.expires_in == 60
        held = tokens_of(solve(server, seat, first))
        tokens_of(solve(server, late, late.sign_in("anna", "pw", LAPTOP), LAPTOP))
        # The third device meets the limit: the 419's list reads too (it broke the choice).
        third = aipix_for(server, tmp_path)
        conflict = solve(server, third, third.sign_in("anna", "pw", LAPTOP), LAPTOP)
        assert isinstance(conflict, LimitConflict) and len(conflict.sessions) == 2
        now = time.time() + server.offset
        for listing in (seat.list_sessions(held.access_token).sessions, conflict.sessions):
            for entry in listing:
                assert entry.last_activity is not None
                assert abs(entry.last_activity.timestamp() - now) < 60
        third.close()


@pytest.mark.parametrize("reading", ["captcha", "shared"])
def test_throttled_never_loops(refserver_factory: Factory, tmp_path: Path, reading: str) -> None:
    # note §3 E2 429 and §7.5 (the limit shared with /token, Laravel's Retry-After)
    body = "laravel" if reading == "shared" else "empty"
    server = simulator(
        refserver_factory, f"throttle_scope={reading}", f"throttle_body={body}", captcha="always"
    )
    with aipix_for(server, tmp_path) as client:
        for _ in range(20):
            client.new_captcha()
        with pytest.raises(LoginThrottled) as info:
            client.sign_in("anna", "pw", DESK)
        assert info.value.retry_after is not None and 0 < info.value.retry_after <= 600


def test_a_401_for_a_wrong_password(refserver_factory: Factory, tmp_path: Path) -> None:
    server = simulator(refserver_factory, "bad_login_status=401")
    with aipix_for(server, tmp_path) as client, pytest.raises(InvalidCredentials):
        client.sign_in("anna", "not-it", DESK)


def test_licence_force_update_and_maintenance(refserver_factory: Factory, tmp_path: Path) -> None:
    # note §1 402, 409, 503
    licence = simulator(refserver_factory, "licence_problem=true")
    with aipix_for(licence, tmp_path) as client, pytest.raises(ProtocolError, match="licence"):
        client.sign_in("anna", "pw", DESK)
    newer = simulator(refserver_factory, "min_client_version=99.0")
    with aipix_for(newer, tmp_path) as client, pytest.raises(Unsupported, match="newer client"):
        client.sign_in("anna", "pw", DESK)
    busy = simulator(refserver_factory)
    with aipix_for(busy, tmp_path) as client:
        tokens = tokens_of(client.sign_in("anna", "pw", DESK))
        busy.set_busy()
        with pytest.raises(ServerBusy, match="maintenance"):
            client.check(tokens)
        busy.clear_busy()
        client.check(tokens)


def test_token_lifetime_readings(refserver_factory: Factory, tmp_path: Path) -> None:
    # note §3 E3 [GAP]: tokens that never lapse, and tokens that lapse when idle
    forever = simulator(refserver_factory)
    lapsing = simulator(refserver_factory, "token_idle_ttl=600")
    with aipix_for(forever, tmp_path) as a, aipix_for(lapsing, tmp_path) as b:
        ta, tb = tokens_of(a.sign_in("anna", "pw", DESK)), tokens_of(b.sign_in("anna", "pw", DESK))
        forever.advance_clock(601)
        lapsing.advance_clock(601)
        a.refresh(ta)
        with pytest.raises(SessionEnded):
            b.refresh(tb)
