"""Signing in to the real reference server over TLS: passwords, captcha, throttling, seats."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace

import pytest

from tests.support.refserver import RefServer
from vms_tray.connections.model import Trust
from vms_tray.errors import InvalidCredentials, LoginThrottled, SessionEnded
from vms_tray.session.records import CaptchaAnswer, CaptchaChallenge, LimitConflict, SignedIn

from .helpers import DESK, LAPTOP, native_for, sign_in

pytestmark = pytest.mark.integration
Factory = Callable[..., RefServer]


def test_server_info_and_sign_in(refserver: RefServer) -> None:
    with native_for(refserver) as client:
        info = client.server_info()
        assert info.api_version.startswith("1")
        assert info.name == "refserver under test"
        outcome = client.sign_in("anna", "pw", DESK)
        assert isinstance(outcome, SignedIn)
        assert outcome.limit is not None and (outcome.limit.max, outcome.limit.active) == (2, 1)
        assert outcome.idle_timeout == 900
        me = client.current_session(outcome.tokens.access_token)
        assert me.id == outcome.tokens.session_id
        assert (me.device, me.software, me.version) == ("desk-1", "vms-tray", "0.1.0")


def test_ca_file_trust_with_the_servers_own_certificate(refserver: RefServer) -> None:
    trust = Trust(mode="ca-file", ca_file=str(refserver.cert_pem_path))
    with native_for(refserver, trust=trust) as client:
        assert client.server_info().api_version.startswith("1")


def test_captcha_required_invalid_then_answered(refserver_factory: Factory) -> None:
    server = refserver_factory(captcha="always")
    with native_for(server) as client:
        first = client.sign_in("anna", "pw", DESK)
        assert isinstance(first, CaptchaChallenge) and first.reason == "required"
        assert first.captcha.image_png.startswith(b"\x89PNG")
        wrong = client.sign_in("anna", "pw", DESK, CaptchaAnswer(first.captcha.id, "WRONG"))
        assert isinstance(wrong, CaptchaChallenge) and wrong.reason == "invalid"
        answer = server.captcha_answer(wrong.captcha.id)
        done = client.sign_in("anna", "pw", DESK, CaptchaAnswer(wrong.captcha.id, answer))
        assert isinstance(done, SignedIn)


def test_captcha_expired(refserver_factory: Factory) -> None:
    server = refserver_factory(captcha="always")
    with native_for(server) as client:
        first = client.sign_in("anna", "pw", DESK)
        assert isinstance(first, CaptchaChallenge)
        answer = server.captcha_answer(first.captcha.id)
        server.advance_clock(first.captcha.expires_in + 1)
        late = client.sign_in("anna", "pw", DESK, CaptchaAnswer(first.captcha.id, answer))
        assert isinstance(late, CaptchaChallenge) and late.reason == "expired"
        assert late.captcha.id != first.captcha.id


def test_captcha_refresh_replaces_the_old_one(refserver_factory: Factory) -> None:
    server = refserver_factory(captcha="always")
    with native_for(server) as client:
        first = client.sign_in("anna", "pw", DESK)
        assert isinstance(first, CaptchaChallenge)
        old_answer = server.captcha_answer(first.captcha.id)
        fresh = client.new_captcha(replaces=first.captcha.id)
        assert fresh.id != first.captcha.id and fresh.expires_in > 0
        stale = client.sign_in("anna", "pw", DESK, CaptchaAnswer(first.captcha.id, old_answer))
        assert isinstance(stale, CaptchaChallenge)
        assert stale.reason in ("invalid", "expired")
        answer = server.captcha_answer(stale.captcha.id)
        done = client.sign_in("anna", "pw", DESK, CaptchaAnswer(stale.captcha.id, answer))
        assert isinstance(done, SignedIn)


def test_captcha_after_failures(refserver_factory: Factory) -> None:
    server = refserver_factory(captcha="after-failures")
    with native_for(server) as client:
        assert client.server_info().captcha == "after-failures"
        for _ in range(2):  # the third sign-in of this (login, address) needs a captcha
            with pytest.raises(InvalidCredentials):
                client.sign_in("anna", "guess", DESK)
        challenge = client.sign_in("anna", "pw", DESK)
        assert isinstance(challenge, CaptchaChallenge) and challenge.reason == "required"
        answer = server.captcha_answer(challenge.captcha.id)
        done = client.sign_in("anna", "pw", DESK, CaptchaAnswer(challenge.captcha.id, answer))
        assert isinstance(done, SignedIn)


def test_throttled_after_repeated_failures(refserver: RefServer) -> None:
    with native_for(refserver) as client:
        for _ in range(5):
            with pytest.raises(InvalidCredentials):
                client.sign_in("anna", "guess", DESK)
        with pytest.raises(LoginThrottled) as info:
            client.sign_in("anna", "pw", DESK)
        assert info.value.retry_after is not None and 0 < info.value.retry_after <= 60
        assert f"{info.value.retry_after:.0f} s" in str(info.value)
        refserver.advance_clock(61)
        assert isinstance(client.sign_in("anna", "pw", DESK), SignedIn)


def test_limit_conflict_end_a_session_with_the_conflict_token_then_finish(
    refserver_factory: Factory,
) -> None:
    server = refserver_factory(max_sessions=1)
    with native_for(server) as desk, native_for(server) as laptop:
        first = sign_in(desk, DESK)
        conflict = laptop.sign_in("anna", "pw", LAPTOP)
        assert isinstance(conflict, LimitConflict)
        assert (conflict.limit.max, conflict.limit.active) == (1, 1)
        assert [s.id for s in conflict.sessions] == [first.session_id]
        assert conflict.sessions[0].device == "desk-1"
        assert conflict.expires_in > 0

        listed = laptop.list_sessions(conflict.conflict_token)
        assert [s.id for s in listed.sessions] == [first.session_id]
        assert not any(s.current for s in listed.sessions)

        # Still full: another conflict, with a fresh token, and no password sent again.
        again = laptop.finish_sign_in(conflict.conflict_token, LAPTOP)
        assert isinstance(again, LimitConflict)
        laptop.end_session(again.conflict_token, first.session_id or "")
        done = laptop.finish_sign_in(again.conflict_token, LAPTOP)
        assert isinstance(done, SignedIn)
        assert laptop.current_session(done.tokens.access_token).device == "laptop-2"

        with pytest.raises(SessionEnded) as info:
            desk.check(first)
        assert info.value.reason == "ended_by_other"
        assert info.value.ended_by is not None and info.value.ended_by.device == "laptop-2"
        assert "laptop-2" in str(info.value)


def test_a_known_device_signs_in_while_its_address_is_throttled(refserver_factory: Factory) -> None:
    """Protocol v1 "Throttling": the device token given at a correct password makes the next
    sign-ins a known device's, which failures of others from the same address do not slow."""
    server = refserver_factory()
    with native_for(server) as client:
        first = client.sign_in("anna", "pw", DESK)
        assert isinstance(first, SignedIn) and first.device_token
        assert first.device_token not in repr(first)
        client.sign_out(first.tokens)
        for _ in range(6):  # a guesser at our address: the pair (anna, 127.0.0.1) is throttled
            with contextlib.suppress(InvalidCredentials, LoginThrottled):
                client.sign_in("anna", "wrong", LAPTOP)
        with pytest.raises(LoginThrottled):
            client.sign_in("anna", "pw", LAPTOP)
        known = client.sign_in("anna", "pw", replace(DESK, device_token=first.device_token))
        assert isinstance(known, SignedIn)
        assert known.device_token == first.device_token  # the same token comes back
