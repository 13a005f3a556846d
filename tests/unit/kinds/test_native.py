"""NativeServer against a small fake protocol v1 server (httpx.MockTransport)."""

from __future__ import annotations

import json

import httpx
import pytest

from vms_tray.connections.model import Connection
from vms_tray.errors import (
    BadResponse,
    ProtocolError,
    SessionEnded,
    SessionNotFound,
    TokenExpired,
    Unsupported,
)
from vms_tray.kinds.base import ClientInfo
from vms_tray.kinds.native import NativeServer
from vms_tray.session.records import (
    CaptchaAnswer,
    CaptchaChallenge,
    LimitConflict,
    SignedIn,
    Tokens,
)

from .fakes import PNG, Canned, FakeV1, entry, ok, problem

CONN = Connection(name="office", url="https://vms.example.com", login="operator")
CLIENT = ClientInfo(device="desk-1", software="vms-tray", version="0.1.0")


def native(handler: httpx.MockTransport) -> NativeServer:
    return NativeServer(CONN, transport=handler, timeout=5.0)


def signed_in(server: NativeServer, fake: FakeV1) -> Tokens:
    outcome = server.sign_in("operator", fake.password, CLIENT)
    assert isinstance(outcome, SignedIn)
    return outcome.tokens


def test_server_info() -> None:
    fake = FakeV1(captcha="after-failures")
    with native(fake.transport()) as server:
        info = server.server_info()
    assert info.api_version == "1.0" and info.captcha == "after-failures"
    assert info.idle_timeout == 900.0 and info.server_time is not None
    assert fake.requests[0].url.path == "/api/v1/server"
    assert "authorization" not in fake.requests[0].headers


def test_sign_in_returns_tokens_limit_and_idle_timeout() -> None:
    fake = FakeV1(max_sessions=3)
    with native(fake.transport()) as server:
        outcome = server.sign_in("operator", fake.password, CLIENT)
    assert isinstance(outcome, SignedIn)
    assert outcome.tokens.access_token.startswith("acc-")
    assert outcome.tokens.refresh_token and outcome.tokens.session_id
    assert outcome.tokens.expires_in == 300.0 and outcome.tokens.refresh_expires_in == 3600.0
    assert outcome.limit is not None and (outcome.limit.max, outcome.limit.active) == (3, 1)
    assert outcome.idle_timeout == 900.0
    body = json.loads(fake.requests[0].content)
    assert body["client"] == {"device": "desk-1", "software": "vms-tray", "version": "0.1.0"}
    assert "captcha" not in body
    # Tokens are not in any repr the daemon might log.
    assert outcome.tokens.access_token not in repr(outcome)


def test_captcha_required_then_invalid_then_accepted() -> None:
    fake = FakeV1(captcha="always")
    with native(fake.transport()) as server:
        first = server.sign_in("operator", fake.password, CLIENT)
        assert isinstance(first, CaptchaChallenge) and first.reason == "required"
        assert first.captcha.image_png == PNG and first.captcha.expires_in == 60.0
        wrong = server.sign_in("operator", fake.password, CLIENT, CaptchaAnswer("c1", "nope"))
        assert isinstance(wrong, CaptchaChallenge) and wrong.reason == "invalid"
        assert wrong.captcha.id == "c2"
        right = server.sign_in(
            "operator", fake.password, CLIENT, CaptchaAnswer("c2", fake.captcha_answer)
        )
    assert isinstance(right, SignedIn)
    assert json.loads(fake.requests[-1].content)["captcha"] == {"id": "c2", "answer": "42x7"}


def test_captcha_expired_is_a_challenge() -> None:
    canned = Canned(
        problem(
            "captcha-expired", 403, captcha={"captcha_id": "c9", "image_png": "", "expires_in": 60}
        )
    )
    with native(canned.transport()) as server:
        outcome = server.sign_in("operator", "pw-12345", CLIENT, CaptchaAnswer("c1", "x"))
    assert isinstance(outcome, CaptchaChallenge) and outcome.reason == "expired"
    assert outcome.captcha.id == "c9"


def test_new_captcha_replaces() -> None:
    fake = FakeV1()
    with native(fake.transport()) as server:
        captcha = server.new_captcha(replaces="c1")
        server.new_captcha()
    assert captcha.image_png == PNG
    assert json.loads(fake.requests[0].content) == {"replaces": "c1"}
    assert json.loads(fake.requests[1].content) == {}


def test_limit_conflict_end_a_session_then_finish() -> None:
    fake = FakeV1(max_sessions=1)
    with native(fake.transport()) as server:
        first = signed_in(server, fake)
        conflict = server.sign_in("operator", fake.password, CLIENT)
        assert isinstance(conflict, LimitConflict)
        assert conflict.limit.max == 1 and conflict.limit.active == 1
        assert [s.id for s in conflict.sessions] == [first.session_id]
        assert conflict.expires_in == 120.0
        assert conflict.conflict_token not in repr(conflict)

        listed = server.list_sessions(conflict.conflict_token)
        assert [s.id for s in listed.sessions] == [first.session_id]
        assert not listed.sessions[0].current
        # Finishing while the seat is still taken is another conflict, with a fresh token.
        again = server.finish_sign_in(conflict.conflict_token, CLIENT)
        assert isinstance(again, LimitConflict)
        assert again.conflict_token != conflict.conflict_token

        server.end_session(again.conflict_token, first.session_id or "")
        done = server.finish_sign_in(again.conflict_token, CLIENT)
        assert isinstance(done, SignedIn)
        assert json.loads(fake.requests[-1].content) == {"conflict_token": again.conflict_token}

        with pytest.raises(SessionEnded) as info:
            server.check(first)
    assert info.value.reason == "ended_by_other"


def test_spent_conflict_token() -> None:
    fake = FakeV1()
    with native(fake.transport()) as server, pytest.raises(TokenExpired):
        server.finish_sign_in("conf-unknown", CLIENT)


def test_refresh_rotates_and_keeps_the_session_id() -> None:
    fake = FakeV1()
    with native(fake.transport()) as server:
        tokens = signed_in(server, fake)
        renewed = server.refresh(tokens)
        assert renewed.access_token != tokens.access_token
        assert renewed.refresh_token != tokens.refresh_token
        assert renewed.session_id == tokens.session_id
        server.check(renewed)
        with pytest.raises(TokenExpired):
            server.refresh(tokens)  # the rotated-out refresh token


def test_list_current_and_end_sessions() -> None:
    fake = FakeV1(max_sessions=5)
    with native(fake.transport()) as server:
        mine = signed_in(server, fake)
        other = signed_in(server, fake)
        listed = server.list_sessions(mine.access_token)
        assert listed.limit.active == 2
        assert [s.current for s in listed.sessions] == [True, False]
        me = server.current_session(mine.access_token)
        assert me.id == mine.session_id and me.current
        server.end_session(mine.access_token, other.session_id or "")
        with pytest.raises(SessionNotFound):
            server.end_session(mine.access_token, other.session_id or "")


def test_session_ids_are_quoted_in_paths() -> None:
    canned = Canned(ok(204))
    with native(canned.transport()) as server:
        server.end_session("tok-1234", "a/b?c")
    assert canned.requests[0].url.raw_path == b"/api/v1/sessions/a%2Fb%3Fc"


def test_session_strings_from_the_server_arrive_printable() -> None:
    evil = {
        **entry("sid-\x1b1", device="EVIL\x1b]0;title\x07\x1b[2J"),
        "software": "vms\u202etray",
        "version": "1.0\n2.0",
        "address": "10.0.0.5\x9b",
    }
    listing = {"limit": {"scope": "account", "max": 3, "active": 1}, "sessions": [evil]}
    canned = Canned(ok(200, listing), ok(200, evil))
    with native(canned.transport()) as server:
        (listed,) = server.list_sessions("tok-1234").sessions
        current = server.current_session("tok-1234")
    for s in (listed, current):
        assert s.device == "EVIL\\x1b]0;title\\x07\\x1b[2J"
        assert (s.software, s.version, s.address) == (
            "vms\\u202etray",
            "1.0\\x0a2.0",
            "10.0.0.5\\x9b",
        )
        assert s.id == "sid-\x1b1"  # exact: it names the session to end


@pytest.mark.parametrize("session_id", ["current", ".", "..", ""])
def test_ending_current_or_a_dot_path_is_refused_before_any_request(session_id: str) -> None:
    canned = Canned(ok(204))
    with native(canned.transport()) as server, pytest.raises(SessionNotFound) as info:
        server.end_session("tok-1234", session_id)
    assert canned.requests == []
    if session_id == "current":
        assert "vms-tray signout" in str(info.value)


def test_sign_out_frees_the_seat_and_is_idempotent() -> None:
    fake = FakeV1()
    with native(fake.transport()) as server:
        tokens = signed_in(server, fake)
        server.sign_out(tokens)
        server.sign_out(tokens)
        assert not fake._active()
        assert isinstance(server.sign_in("operator", fake.password, CLIENT), SignedIn)


def test_sign_out_with_expired_access_token_uses_the_refresh_token() -> None:
    canned = Canned(problem("token-expired", 401), ok(204))
    tokens = Tokens(access_token="acc-old-1", expires_in=0, refresh_token="ref-live-1")
    with native(canned.transport()) as server:
        server.sign_out(tokens)
    assert [r.headers["authorization"] for r in canned.requests] == [
        "Bearer acc-old-1",
        "Bearer ref-live-1",
    ]


def test_sign_out_of_an_ended_session_is_quiet() -> None:
    canned = Canned(problem("session-ended", 401, reason="idle_timeout"))
    with native(canned.transport()) as server:
        server.sign_out(Tokens(access_token="acc-1234", expires_in=1, refresh_token="ref-1234"))
    assert len(canned.requests) == 1


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"access_token": 5, "expires_in": 1},
        {"access_token": "a"},
        {"access_token": "a", "expires_in": "soon"},
        {"access_token": "a", "expires_in": 1, "token_type": "MAC"},
        {"access_token": "a", "expires_in": 1, "limit": {"scope": "account"}},
    ],
)
def test_malformed_sign_in_answers(body: object) -> None:
    canned = Canned(httpx.Response(201, json=body))
    with native(canned.transport()) as server, pytest.raises(BadResponse) as info:
        server.sign_in("operator", "pw-12345", CLIENT)
    assert "'a'" not in str(info.value)  # member names, never values


def test_malformed_session_entry() -> None:
    canned = Canned(ok(200, {"id": "s", "started_at": "yesterday"}))
    with native(canned.transport()) as server, pytest.raises(BadResponse, match="started_at"):
        server.current_session("tok-1234")


def test_malformed_captcha_image() -> None:
    canned = Canned(ok(201, {"captcha_id": "c", "image_png": "!!!", "expires_in": 60}))
    with native(canned.transport()) as server, pytest.raises(BadResponse, match="base64"):
        server.new_captcha()


def test_conflict_token_in_the_wrong_place_is_a_protocol_error() -> None:
    canned = Canned(problem("captcha-required", 403, captcha={}))
    with native(canned.transport()) as server, pytest.raises(ProtocolError):
        server.finish_sign_in("conf-1234", CLIENT)


def test_capabilities() -> None:
    caps = NativeServer.capabilities
    assert caps.list_sessions and caps.end_sessions and caps.captcha and caps.session_limit
    assert caps.server_side_sign_out and not caps.silent_reauth


def test_repr_has_no_secrets_and_no_handshakes_with_mock_transport() -> None:
    with native(FakeV1().transport()) as server:
        assert repr(server) == "NativeServer('office', 'https://vms.example.com')"
        assert server.tls_handshakes is None


def test_protocol_v1_1_features_estimates_and_handover_are_read() -> None:
    info = {"name": "hq", "api_version": "1.1", "features": ["events", "handover", 7]}
    held = {
        **entry("sid-1", current=True),
        "ends_by_itself_at": "2026-12-02T10:15:00Z",
        "handover": {
            "deadline": "2026-12-02T10:01:00Z",
            "requested_by": {"device": "OPS-PC-13\x1b[2J", "software": "vms-tray"},
        },
    }
    limit = {"scope": "account", "max": 1, "active": 1, "next_free_at": "2026-12-02T10:15:00Z"}
    canned = Canned(ok(200, info), ok(200, {"limit": {**limit, "held": 1}, "sessions": [held]}))
    with native(canned.transport()) as server:
        assert server.server_info().features == frozenset({"events", "handover"})
        listed = server.list_sessions("tok-1234")
    (me,) = listed.sessions
    assert me.ends_by_itself_at is not None and me.ends_by_itself_at.minute == 15
    assert me.handover is not None and me.handover.deadline.minute == 1
    assert me.handover.requested_by == "OPS-PC-13\\x1b[2J"  # printable, as every server string
    assert listed.limit.next_free_at is not None and listed.limit.held == 1
    assert listed.to_json()["sessions"][0]["handover"]["requested_by"]["device"].startswith("OPS")


def test_a_v1_server_has_no_features_estimates_or_handover() -> None:
    listing = {"limit": {"scope": "account", "max": 3, "active": 1}, "sessions": [entry("s1")]}
    canned = Canned(ok(200, {"name": "hq", "api_version": "1.0"}), ok(200, listing))
    with native(canned.transport()) as server:
        assert server.server_info().features == frozenset()
        listed = server.list_sessions("tok-1234")
    assert listed.sessions[0].ends_by_itself_at is None and listed.sessions[0].handover is None
    assert listed.limit.next_free_at is None and listed.limit.held == 0


def test_with_a_queue_the_finish_waits_in_line_and_reads_the_place() -> None:
    info = {"name": "hq", "api_version": "1.1", "features": ["queue", "handover"]}
    limit = {"scope": "account", "max": 1, "active": 1}
    full = problem(
        "session-limit",
        409,
        limit=limit,
        sessions=[entry("s1")],
        conflict_token="conf-2",
        conflict_expires_in=120,
        queue={"position": 2, "length": 3},
    )
    handover = ok(202, {"session_id": "s1", "deadline": "2026-12-02T10:01:00Z", "grace": 60})
    canned = Canned(ok(200, info), full, handover)
    with native(canned.transport()) as server:
        assert server.queues()
        outcome = server.finish_sign_in("conf-1", CLIENT)
        assert isinstance(outcome, LimitConflict) and outcome.queue_position == 2
        deadline = server.request_handover("conf-2", "s/1")
    assert deadline.minute == 1
    finish, ask = canned.requests[1:]
    assert json.loads(finish.content) == {"conflict_token": "conf-1", "wait": True}
    assert ask.method == "POST" and ask.url.raw_path == b"/api/v1/sessions/s%2F1/handover"
    assert ask.headers["authorization"] == "Bearer conf-2"


def test_a_v1_server_neither_queues_nor_hands_over() -> None:
    canned = Canned(ok(200, {"name": "hq", "api_version": "1.0"}))
    with native(canned.transport()) as server:
        assert not server.queues()
        with pytest.raises(Unsupported, match="end it, or wait"):
            server.request_handover("conf-1", "s1")
    assert len(canned.requests) == 1  # nothing was asked of the server
