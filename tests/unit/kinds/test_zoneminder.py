"""ZoneMinderServer against a small fake of ZoneMinder 1.36's token API (fakes_zoneminder)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vms_tray.connections.model import Connection
from vms_tray.errors import (
    AccessDenied,
    BadResponse,
    InvalidCredentials,
    ProtocolError,
    ServerBusy,
    TokenExpired,
    Unsupported,
)
from vms_tray.kinds import capabilities_for, create_server
from vms_tray.kinds.base import ClientInfo
from vms_tray.kinds.zoneminder import ZoneMinderServer, _jwt_expiry
from vms_tray.session.records import SignedIn, Tokens

from .fakes_zoneminder import PASSWORD, START, FakeZoneMinder, User, claims_of, jwt, zm_error

ROOT = "https://nvr.example.com/zm"
CLIENT = ClientInfo(device="desk", software="vms-tray", version="0.1.0")


@pytest.fixture
def fake() -> FakeZoneMinder:
    return FakeZoneMinder()


def connect(
    fake: FakeZoneMinder | httpx.MockTransport, url: str = ROOT, clock: float = START
) -> ZoneMinderServer:
    transport = fake.transport() if isinstance(fake, FakeZoneMinder) else fake
    connection = Connection(name="nvr", url=url, login="admin", kind="zoneminder")
    return ZoneMinderServer(connection, transport=transport, clock=lambda: clock)


def sign_in(server: ZoneMinderServer, login: str = "admin", password: str = PASSWORD) -> Tokens:
    outcome = server.sign_in(login, password, CLIENT)
    assert isinstance(outcome, SignedIn)
    return outcome.tokens


# --- registry and capabilities -------------------------------------------------------------------


def test_registry_creates_zoneminder_kind_with_its_capabilities(fake: FakeZoneMinder) -> None:
    connection = Connection(name="nvr", url=ROOT, login="admin", kind="zoneminder")
    server = create_server(connection, transport=fake.transport())
    try:
        assert isinstance(server, ZoneMinderServer)
        assert server.kind == "zoneminder"
        sign_in(server)
    finally:
        server.close()
    caps = capabilities_for("zoneminder")
    assert not caps.list_sessions
    assert not caps.end_sessions
    assert not caps.captcha
    assert not caps.session_limit
    assert not caps.server_side_sign_out
    assert caps.silent_reauth


@pytest.mark.parametrize(
    ("call", "phrase"),
    [
        (lambda s: s.list_sessions("t"), "do not report sessions"),
        (lambda s: s.current_session("t"), "do not report sessions"),
        (lambda s: s.end_session("t", "x"), "cannot end sessions"),
        (lambda s: s.new_captcha(), "do not use a captcha"),
        (lambda s: s.finish_sign_in("t", CLIENT), "no session limit"),
    ],
)
def test_what_zoneminder_cannot_do_raises_unsupported(
    fake: FakeZoneMinder, call: Any, phrase: str
) -> None:
    server = connect(fake)
    with pytest.raises(Unsupported, match=phrase):
        call(server)
    assert fake.requests == []


# --- sign-in -------------------------------------------------------------------------------------


def test_sign_in_posts_the_password_in_a_form_and_returns_both_tokens(
    fake: FakeZoneMinder,
) -> None:
    tokens = sign_in(connect(fake))
    assert claims_of(tokens.access_token)["type"] == "access"
    assert claims_of(tokens.refresh_token or "")["type"] == "refresh"
    assert tokens.expires_in == 7200
    assert tokens.refresh_expires_in == 86400
    (request,) = fake.requests
    assert request.method == "POST"
    assert str(request.url) == f"{ROOT}/api/host/login.json"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode()) == {"user": ["admin"], "pass": [PASSWORD]}


def test_trailing_slash_in_the_web_root_is_harmless(fake: FakeZoneMinder) -> None:
    sign_in(connect(fake, url=ROOT + "/"))
    assert str(fake.requests[0].url) == f"{ROOT}/api/host/login.json"


def test_wrong_password_is_invalid_credentials_without_the_password(
    fake: FakeZoneMinder,
) -> None:
    with pytest.raises(InvalidCredentials) as info:
        connect(fake).sign_in("admin", "wrong-password", CLIENT)
    message = str(info.value)
    assert "'admin'" in message
    assert "check them" in message
    assert "wrong-password" not in message


def test_unknown_user_reads_like_a_wrong_password(fake: FakeZoneMinder) -> None:
    with pytest.raises(InvalidCredentials):
        connect(fake).sign_in("nobody", PASSWORD, CLIENT)


def test_api_disabled_says_where_to_enable_it(fake: FakeZoneMinder) -> None:
    fake.users["viewer"] = User("viewer-pass", api=False)
    with pytest.raises(AccessDenied) as info:
        connect(fake).sign_in("viewer", "viewer-pass", CLIENT)
    assert "enable API access for this user in ZoneMinder Options → Users" in str(info.value)


def test_disabled_user_is_access_denied(fake: FakeZoneMinder) -> None:
    fake.users["old"] = User("old-pass", enabled=False)
    with pytest.raises(AccessDenied, match="is disabled"):
        connect(fake).sign_in("old", "old-pass", CLIENT)


def test_authentication_turned_off_is_explained(fake: FakeZoneMinder) -> None:
    fake.auth = False
    with pytest.raises(Unsupported, match="OPT_USE_AUTH"):
        connect(fake).sign_in("admin", PASSWORD, CLIENT)


def test_a_sign_in_without_refresh_token_is_a_too_old_zoneminder() -> None:
    old = httpx.MockTransport(
        lambda _: httpx.Response(200, json={"access_token": "a.b.c", "access_token_expires": 3600})
    )
    with pytest.raises(BadResponse, match=r"1\.34 or newer"):
        connect(old).sign_in("admin", PASSWORD, CLIENT)


# --- refresh -------------------------------------------------------------------------------------


def test_refresh_keeps_the_refresh_token_and_counts_down_its_lifetime(
    fake: FakeZoneMinder,
) -> None:
    server = connect(fake)
    tokens = sign_in(server)
    fake.now += 1000
    refreshed = server.refresh(tokens)
    assert refreshed.refresh_token == tokens.refresh_token
    assert refreshed.access_token != tokens.access_token
    assert claims_of(refreshed.access_token)["iat"] == int(fake.now)
    assert refreshed.expires_in == 7200
    assert refreshed.refresh_expires_in == 86400 - 1000
    assert parse_qs(fake.requests[-1].content.decode()) == {"token": [tokens.refresh_token]}


def test_refresh_lifetime_follows_the_server_clock_not_ours(fake: FakeZoneMinder) -> None:
    # Our clock is a day behind; the server's Date header wins.
    connection = Connection(name="nvr", url=ROOT, login="admin", kind="zoneminder")
    server = ZoneMinderServer(connection, transport=fake.transport(), clock=lambda: START - 86400)
    tokens = sign_in(server)
    fake.now += 600
    assert server.refresh(tokens).refresh_expires_in == 86400 - 600


def test_refresh_lifetime_uses_the_local_clock_without_a_date_header(
    fake: FakeZoneMinder,
) -> None:
    fake.send_date = False
    server = connect(fake, clock=START + 50)
    tokens = sign_in(server)
    assert server.refresh(tokens).refresh_expires_in == 86400 - 50


def test_refresh_of_an_unreadable_refresh_token_has_unknown_lifetime() -> None:
    answer = {"access_token": "x.y.z", "access_token_expires": 7200}
    server = connect(httpx.MockTransport(lambda _: httpx.Response(200, json=answer)))
    tokens = Tokens(access_token="old", expires_in=0, refresh_token="opaque", refresh_expires_in=9)
    refreshed = server.refresh(tokens)
    assert refreshed.access_token == "x.y.z"
    assert refreshed.refresh_expires_in is None


def test_spent_refresh_token_is_token_expired(fake: FakeZoneMinder) -> None:
    server = connect(fake)
    tokens = sign_in(server)
    fake.now += 86400
    with pytest.raises(TokenExpired, match="Expired token") as info:
        server.refresh(tokens)
    assert "sign in again" in str(info.value)


def test_revoked_refresh_token_is_token_expired_and_a_new_sign_in_works(
    fake: FakeZoneMinder,
) -> None:
    server = connect(fake)
    tokens = sign_in(server)
    fake.revoke("admin")
    with pytest.raises(TokenExpired, match="revoked"):
        server.refresh(tokens)
    fake.now += 1
    fresh = sign_in(server)
    server.check(server.refresh(fresh))


def test_refresh_without_refresh_token_asks_for_a_sign_in(fake: FakeZoneMinder) -> None:
    with pytest.raises(TokenExpired, match="sign in again"):
        connect(fake).refresh(Tokens(access_token="a", expires_in=10))
    assert fake.requests == []


def test_refresh_after_api_access_was_withdrawn_is_access_denied(fake: FakeZoneMinder) -> None:
    server = connect(fake)
    tokens = sign_in(server)
    fake.users["admin"].api = False
    with pytest.raises(AccessDenied, match="Options → Users"):
        server.refresh(tokens)


# --- check, server info, sign-out ----------------------------------------------------------------


def test_check_accepts_a_live_access_token_and_refuses_an_expired_one(
    fake: FakeZoneMinder,
) -> None:
    server = connect(fake)
    tokens = sign_in(server)
    server.check(tokens)
    assert parse_qs(fake.requests[-1].content.decode()) == {"token": [tokens.access_token]}
    fake.now += 7200
    with pytest.raises(TokenExpired, match="access token"):
        server.check(tokens)


def test_check_refuses_a_refresh_token_in_place_of_an_access_token(
    fake: FakeZoneMinder,
) -> None:
    server = connect(fake)
    tokens = sign_in(server)
    swapped = Tokens(access_token=tokens.refresh_token or "", expires_in=1)
    with pytest.raises(TokenExpired, match="Incorrect token type"):
        server.check(swapped)


def test_server_info_has_the_version_once_signed_in(fake: FakeZoneMinder) -> None:
    server = connect(fake)
    before = server.server_info()
    assert before.product == "ZoneMinder"
    assert before.version == ""
    assert before.captcha == "never"
    assert before.server_time is not None
    assert before.server_time.timestamp() == START
    sign_in(server)
    after = server.server_info()
    assert (after.version, after.api_version) == ("1.36.33", "2.0")


def test_server_info_of_an_open_zoneminder_reads_the_version(fake: FakeZoneMinder) -> None:
    fake.auth = False
    assert connect(fake).server_info().version == "1.36.33"


def test_sign_out_is_idempotent_and_frees_nothing(fake: FakeZoneMinder) -> None:
    server = connect(fake)
    tokens = sign_in(server)
    server.sign_out(tokens)
    server.sign_out(tokens)
    # Tokens outlive the logout: that is ZoneMinder, and why server_side_sign_out is False.
    server.check(tokens)
    fake.revoke("admin")
    server.sign_out(tokens)
    assert [r.url.path for r in fake.requests].count("/zm/api/host/logout.json") == 3


# --- things that are not ZoneMinder --------------------------------------------------------------


def test_wrong_web_root_is_a_404_with_a_hint(fake: FakeZoneMinder) -> None:
    with pytest.raises(BadResponse, match=r"web root \(e\.g\. https://host/zm\)"):
        connect(fake, url="https://nvr.example.com/other").sign_in("admin", PASSWORD, CLIENT)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, html="<html>welcome</html>"),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(401, html="<html>401</html>"),
        httpx.Response(401, json={"error": "nope"}),
    ],
)
def test_answers_that_are_not_zoneminder_are_bad_responses(response: httpx.Response) -> None:
    server = connect(httpx.MockTransport(lambda _: response))
    with pytest.raises(BadResponse):
        server.sign_in("admin", PASSWORD, CLIENT)


def test_server_errors_are_transient(fake: FakeZoneMinder) -> None:
    server = connect(httpx.MockTransport(lambda _: httpx.Response(503, text="maintenance")))
    with pytest.raises(ServerBusy):
        server.check(Tokens(access_token="a", expires_in=1))


def test_forbidden_without_a_hash_secret_is_a_protocol_error_with_the_reason() -> None:
    answer = zm_error(403, "Please create a valid AUTH_HASH_SECRET in ZoneMinder")
    server = connect(httpx.MockTransport(lambda _: answer))
    with pytest.raises(ProtocolError, match="AUTH_HASH_SECRET") as info:
        server.sign_in("admin", PASSWORD, CLIENT)
    assert info.value.status == 403


def test_zoneminders_reason_reaches_the_message_escaped() -> None:
    # Issue 14 item 4: the reason is in the message notices and the CLI show.
    answer = zm_error(403, "EVIL\x1b]0;title\x07\x1b[2J \u202e")
    server = connect(httpx.MockTransport(lambda _: answer))
    with pytest.raises(ProtocolError) as info:
        server.sign_in("admin", PASSWORD, CLIENT)
    assert "EVIL\\x1b]0;title\\x07\\x1b[2J \\u202e" in str(info.value)
    assert not any(c in str(info.value) for c in "\x1b\x07\u202e")


# --- secrets -------------------------------------------------------------------------------------


def test_no_secret_in_urls_logs_or_messages(
    fake: FakeZoneMinder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = connect(fake)
    tokens = sign_in(server)
    refreshed = server.refresh(tokens)
    server.check(refreshed)
    server.sign_out(refreshed)
    fake.now += 86400
    messages = []
    for call in (lambda: server.refresh(tokens), lambda: server.check(refreshed)):
        with pytest.raises(TokenExpired) as info:
            call()
        messages.append(str(info.value))
    with pytest.raises(InvalidCredentials) as bad:
        server.sign_in("admin", "nope-" + PASSWORD, CLIENT)
    messages.append(str(bad.value))
    secrets = [PASSWORD, tokens.access_token, tokens.refresh_token or "", refreshed.access_token]
    assert all(not request.url.query for request in fake.requests)
    for secret in secrets:
        assert secret not in caplog.text
        assert all(secret not in m for m in messages)
        assert secret not in repr(tokens) + repr(refreshed)


def test_a_server_echoing_the_token_does_not_leak_it_into_the_message() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        sent = parse_qs(request.content.decode())["token"][0]
        return zm_error(401, f"Bad token {sent}")

    server = connect(httpx.MockTransport(echo))
    with pytest.raises(TokenExpired) as info:
        server.check(Tokens(access_token="eyJsecret.access.token", expires_in=1))
    assert "eyJsecret" not in str(info.value)
    assert "Bad token ***" in str(info.value)


@given(st.text())
def test_reading_a_token_expiry_never_raises(token: str) -> None:
    expiry = _jwt_expiry(token)
    assert expiry is None or isinstance(expiry, float)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (jwt({"exp": 1234}), 1234.0),
        (jwt({"exp": "1234"}), None),
        (jwt({"exp": True}), None),
        (jwt({}), None),
        ("a.W10.c", None),  # payload is a JSON list
        ("a.!!!.c", None),
        ("a.b", None),
    ],
)
def test_token_expiry_is_read_only_from_a_numeric_exp_claim(
    token: str, expected: float | None
) -> None:
    assert _jwt_expiry(token) == expected
