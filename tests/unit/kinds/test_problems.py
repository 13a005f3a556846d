"""kinds.problems: every protocol v1 problem type becomes the right vms-tray exception."""

from __future__ import annotations

import json
import string

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.kinds.fakes import Canned, problem
from tests.unit.net import helpers
from vms_tray.errors import (
    EndedBy,
    InvalidCredentials,
    LoginThrottled,
    NetworkError,
    ProtocolError,
    ServerBusy,
    SessionEnded,
    SessionNotFound,
    TokenExpired,
)
from vms_tray.kinds.problems import ProblemFormat, parse_problem, problem_of
from vms_tray.net.http import HttpAdapter


def adapter(canned: Canned) -> HttpAdapter:
    return helpers.adapter(canned, error_format=ProblemFormat())


def fail(answer: httpx.Response | Exception, **kwargs: object) -> Exception:
    return helpers.fail(answer, ProblemFormat(), **kwargs)


def test_invalid_credentials() -> None:
    err = fail(problem("invalid-credentials", 401))
    assert type(err) is InvalidCredentials
    assert "vms.example.com" in str(err) and "check them" in str(err)


def test_token_expired() -> None:
    assert type(fail(problem("token-expired", 401))) is TokenExpired


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("logout", "signed out"),
        ("idle_timeout", "idle"),
        ("expired", "has expired"),
        ("something-new", "has ended"),
    ],
)
def test_session_ended_reasons(reason: str, words: str) -> None:
    err = fail(problem("session-ended", 401, reason=reason))
    assert isinstance(err, SessionEnded)
    assert err.reason == reason
    assert err.ended_by is None
    assert words in str(err) and "sign in again" in str(err)


def test_session_ended_by_other_names_the_device() -> None:
    err = fail(
        problem(
            "session-ended",
            401,
            reason="ended_by_other",
            ended_by={"device": "front-desk", "software": "VMS Client"},
        )
    )
    assert isinstance(err, SessionEnded)
    assert err.ended_by == EndedBy(device="front-desk", software="VMS Client")
    assert "front-desk" in str(err) and "another device" in str(err)


def test_login_throttled_with_retry_after_seconds() -> None:
    err = fail(problem("login-throttled", 429, headers={"Retry-After": "30"}, retry_after=30))
    assert isinstance(err, LoginThrottled)
    assert err.retry_after == 30.0
    assert "30 s" in str(err)


def test_login_throttled_with_retry_after_http_date() -> None:
    when = "Fri, 27 Nov 2026 06:02:00 GMT"
    err = fail(problem("login-throttled", 429, headers={"Retry-After": when}))
    assert isinstance(err, LoginThrottled)
    assert err.retry_after == 120.0


def test_session_not_found() -> None:
    assert type(fail(problem("session-not-found", 404))) is SessionNotFound


def test_server_busy_problem() -> None:
    err = fail(problem("server-busy", 503, headers={"Retry-After": "5"}))
    assert isinstance(err, ServerBusy) and isinstance(err, NetworkError)
    assert err.retry_after == 5.0
    assert "retry in 5 s" in str(err)


def test_invalid_request_is_a_protocol_error() -> None:
    err = fail(problem("invalid-request", 400, detail="'login' is missing"))
    assert isinstance(err, ProtocolError)
    assert err.status == 400 and err.problem_type.endswith("/invalid-request")
    assert "'login' is missing" in str(err)


@pytest.mark.parametrize("name", ["captcha-required", "session-limit", "brand-new-problem"])
def test_unrequested_outcomes_are_protocol_errors(name: str) -> None:
    err = fail(problem(name, 409, conflict_token="conf-SECRET-1", max=2))
    assert isinstance(err, ProtocolError) and type(err) is ProtocolError
    assert name in str(err)
    # Bearer material is not kept on the exception, other members are.
    assert err.extensions == {"max": 2}


def test_requested_problem_is_returned() -> None:
    with adapter(Canned(problem("captcha-required", 403, captcha={"x": 1}))) as a:
        reply = a.request("POST", "/sessions", json_body={}, outcomes=("captcha-required",))
    assert reply.status == 403
    found = problem_of(reply)
    assert found is not None and found.name == "captcha-required"
    assert found.extensions["captcha"] == {"x": 1}


def test_about_blank_404_is_a_protocol_error() -> None:
    resp = httpx.Response(
        404,
        headers={"Content-Type": "application/problem+json"},
        content=json.dumps({"type": "about:blank", "status": 404, "title": "Not Found"}).encode(),
    )
    err = fail(resp)
    assert type(err) is ProtocolError and err.status == 404


# --- secrets ------------------------------------------------------------------------------------


def test_secrets_never_reach_messages() -> None:
    # A server that echoes what it got must not make us print the token or the password.
    echo = problem(
        "invalid-request",
        400,
        detail="bad token tok-SECRET-123 for password hunter2-long",
    )
    with adapter(Canned(echo)) as a, pytest.raises(ProtocolError) as info:
        a.request(
            "POST",
            "/sessions",
            bearer="tok-SECRET-123",
            json_body={"password": "hunter2-long"},
            secrets=["hunter2-long"],
        )
    text = f"{info.value} {info.value!r} {info.value.args}"
    assert "tok-SECRET-123" not in text and "hunter2-long" not in text
    assert "***" in text


EVIL = "EVIL\x1b]0;title\x07\x1b[2J \u202e"
ESCAPED = "EVIL\\x1b]0;title\\x07\\x1b[2J \\u202e"


@pytest.mark.parametrize(
    ("name", "status"),
    [("invalid-request", 400), ("brand-new", 418), ("brand-new", 500), ("session-limit", 409)],
)
@pytest.mark.parametrize("member", ["detail", "title"])
def test_a_problems_words_reach_the_message_escaped(name: str, status: int, member: str) -> None:
    # Issue 14 item 4: the detail (or the title of a problem without one) is in the message
    # that notices, dialogs and the CLI show; ESC, BEL and U+202E arrive as escapes.
    words = {"detail": EVIL} if member == "detail" else {"detail": None, "title": EVIL}
    err = fail(problem(name, status, **words))
    assert ESCAPED in str(err)
    assert not any(c in str(err) for c in "\x1b\x07\u202e")


@pytest.mark.parametrize("status", [400, 409, 500])
def test_a_deeply_nested_problem_is_no_document_and_no_recursion_error(status: int) -> None:
    nested = httpx.Response(
        status, headers={"Content-Type": "application/problem+json"}, content=b"[" * 60_000
    )
    assert parse_problem(nested) is None
    assert ProblemFormat().name(nested) is None
    transport = httpx.MockTransport(lambda _: nested)
    a = HttpAdapter("https://vms.example.com", transport=transport, error_format=ProblemFormat())
    with a, pytest.raises(NetworkError, match="unexpected JSON body"):
        a.request("POST", "/sessions", json_body={}, outcomes=("session-limit",))


def test_server_text_is_cut_short() -> None:
    err = fail(problem("invalid-request", 400, detail="x" * 5000))
    assert len(str(err)) < 500


@given(
    secret=st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=16),
    before=st.text(max_size=300),
    after=st.text(max_size=300),
    name=st.sampled_from(["invalid-request", "brand-new", "server-busy", "captcha-required"]),
)
def test_no_secret_survives_in_any_message(secret: str, before: str, after: str, name: str) -> None:
    status = 503 if name == "server-busy" else 400
    answer = problem(name, status, detail=before + secret + after)
    with adapter(Canned(answer)) as a, pytest.raises(Exception) as info:
        a.request("POST", "/sessions", json_body={}, bearer=secret)
    assert secret not in f"{info.value} {info.value!r}"
