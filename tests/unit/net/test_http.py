"""servers.http: every problem type and transport failure becomes the right vms-tray exception."""

from __future__ import annotations

import json
import socket
import ssl
import string
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.kinds.fakes import Canned, ok, problem
from vms_tray.connections.model import Trust
from vms_tray.errors import (
    BadResponse,
    CertificateChanged,
    CertificateUntrusted,
    EndedBy,
    InvalidCredentials,
    InvalidURL,
    LoginThrottled,
    NetworkError,
    ProtocolError,
    ServerBusy,
    ServerTimeout,
    ServerUnreachable,
    SessionEnded,
    SessionNotFound,
    TokenExpired,
    TrustError,
)
from vms_tray.net import tls
from vms_tray.net.http import HttpAdapter, parse_retry_after

URL = "https://vms.example.com/api/v1"
NOW = datetime(2026, 11, 27, 6, 0, 0, tzinfo=UTC)
FINGERPRINT = ":".join(["AB"] * 32)


def fake_certificate(url: str, timeout: float) -> tls.PeerCertificate:
    return tls.PeerCertificate(
        der=b"der",
        pem="pem",
        sha256=FINGERPRINT,
        subject="CN=vms.example.com",
        not_after=NOW + timedelta(days=365),
    )


def unreadable_certificate(url: str, timeout: float) -> tls.PeerCertificate:
    raise ServerUnreachable("gone")


def adapter(
    canned: Canned,
    *,
    trust: Trust | None = None,
    fetch: object = fake_certificate,
) -> HttpAdapter:
    return HttpAdapter(
        URL,
        trust=trust,
        name="office",
        transport=canned.transport(),
        timeout=7.0,
        fetch_certificate=fetch,  # type: ignore[arg-type]
        now=lambda: NOW,
    )


def fail(answer: httpx.Response | Exception, **kwargs: object) -> Exception:
    with adapter(Canned(answer)) as a, pytest.raises(Exception) as info:
        a.request("GET", "/sessions/current", bearer="tok-SECRET-123", **kwargs)  # type: ignore[arg-type]
    return info.value


# --- problem types -------------------------------------------------------------------------------


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
        reply = a.request("POST", "/sessions", json_body={}, problems=("captcha-required",))
    assert reply.status == 403
    assert reply.problem is not None and reply.problem.name == "captcha-required"
    assert reply.problem.extensions["captcha"] == {"x": 1}


def test_about_blank_404_is_a_protocol_error() -> None:
    resp = httpx.Response(
        404,
        headers={"Content-Type": "application/problem+json"},
        content=json.dumps({"type": "about:blank", "status": 404, "title": "Not Found"}).encode(),
    )
    err = fail(resp)
    assert type(err) is ProtocolError and err.status == 404


# --- responses that are not the protocol ---------------------------------------------------------


HTML_502 = httpx.Response(
    502,
    headers={"Content-Type": "text/html; charset=utf-8"},
    content=b"<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>",
)


def test_html_502_from_a_proxy() -> None:
    err = fail(HTML_502)
    assert isinstance(err, ServerBusy)
    assert err.retry_after is None
    message = str(err)
    assert "502 Bad Gateway" in message and "HTML page" in message and "retry" in message
    assert "<html>" not in message


def test_plain_503_with_retry_after() -> None:
    err = fail(httpx.Response(503, headers={"Retry-After": "12"}, content=b"down"))
    assert isinstance(err, ServerBusy) and err.retry_after == 12.0


def test_html_404_means_wrong_address() -> None:
    err = fail(httpx.Response(404, headers={"Content-Type": "text/html"}, content=b"<html/>"))
    assert type(err) is BadResponse
    assert "HTML page" in str(err) and "address" in str(err)


def test_html_200_is_a_bad_response() -> None:
    err = fail(httpx.Response(200, headers={"Content-Type": "text/html"}, content=b"<html/>"))
    assert type(err) is BadResponse and "instead of JSON" in str(err)


def test_malformed_json_200() -> None:
    resp = httpx.Response(200, headers={"Content-Type": "application/json"}, content=b"{nope")
    assert type(fail(resp)) is BadResponse


def test_empty_200_where_data_is_expected() -> None:
    assert type(fail(httpx.Response(200))) is BadResponse


def test_204_has_no_data() -> None:
    with adapter(Canned(ok(204))) as a:
        assert a.request("DELETE", "/sessions/current").data is None


def test_redirect_is_not_followed() -> None:
    canned = Canned(httpx.Response(302, headers={"Location": "https://evil.example/"}))
    with adapter(canned) as a, pytest.raises(BadResponse, match="redirected"):
        a.request("GET", "/server")
    assert len(canned.requests) == 1


def test_accepted_status_is_returned_whatever_the_body() -> None:
    with adapter(Canned(httpx.Response(401, content=b"<html>no</html>"))) as a:
        reply = a.request("POST", "/x", form={"user": "u"}, accept=(401,))
    assert reply.status == 401 and reply.data is None


# --- transport failures --------------------------------------------------------------------------


def test_connection_refused() -> None:
    cause = ConnectionRefusedError(111, "Connection refused")
    exc = httpx.ConnectError("[Errno 111] Connection refused")
    exc.__cause__ = cause
    err = fail(exc)
    assert type(err) is ServerUnreachable
    assert "vms.example.com" in str(err) and "connection refused" in str(err)


def test_dns_failure() -> None:
    exc = httpx.ConnectError("x")
    exc.__context__ = socket.gaierror(-2, "Name or service not known")
    err = fail(exc)
    assert type(err) is ServerUnreachable and "does not resolve" in str(err)


def test_connect_timeout() -> None:
    err = fail(httpx.ConnectTimeout("timed out"))
    assert type(err) is ServerTimeout and "7 s" in str(err)


@pytest.mark.parametrize("exc", [httpx.ReadTimeout("t"), httpx.WriteTimeout("t")])
def test_read_and_write_timeouts(exc: Exception) -> None:
    err = fail(exc)
    assert type(err) is ServerTimeout and "did not answer within 7 s" in str(err)


def test_pool_timeout() -> None:
    assert type(fail(httpx.PoolTimeout("t"))) is ServerTimeout


def test_read_error() -> None:
    assert type(fail(httpx.ReadError("reset"))) is ServerUnreachable


def test_a_dropped_keepalive_connection_is_retried_once_for_get() -> None:
    canned = Canned(httpx.RemoteProtocolError("Server disconnected"), ok(200, {"id": "s"}))
    with adapter(canned) as a:
        assert a.request("GET", "/sessions/current").data == {"id": "s"}
    assert len(canned.requests) == 2


def test_post_is_never_retried() -> None:
    canned = Canned(httpx.RemoteProtocolError("Server disconnected"), ok(200, {}))
    with adapter(canned) as a, pytest.raises(ServerUnreachable):
        a.request("POST", "/sessions/refresh", json_body={"refresh_token": "r"})
    assert len(canned.requests) == 1


def test_unsupported_scheme() -> None:
    assert isinstance(fail(httpx.UnsupportedProtocol("ftp")), InvalidURL)
    assert isinstance(fail(httpx.InvalidURL("bad")), InvalidURL)


def test_undecodable_body() -> None:
    assert type(fail(httpx.DecodingError("bad gzip"))) is BadResponse


def _tls_failure(ssl_error: ssl.SSLError) -> httpx.ConnectError:
    # The shape httpcore produces: the ssl error is the argument of its ConnectError, which
    # httpx wraps again.
    inner = httpx.ConnectError(str(ssl_error))
    inner.args = (ssl_error,)
    outer = httpx.ConnectError(str(ssl_error))
    outer.__cause__ = inner
    return outer


def verify_error(code: int, message: str) -> ssl.SSLCertVerificationError:
    err = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] {message}")
    err.verify_code = code
    err.verify_message = message
    return err


def test_untrusted_self_signed_certificate_shows_the_fingerprint() -> None:
    err = fail(_tls_failure(verify_error(18, "self-signed certificate")))
    assert isinstance(err, CertificateUntrusted) and isinstance(err, TrustError)
    assert err.fingerprint == FINGERPRINT
    message = str(err)
    assert FINGERPRINT in message
    assert "vms.example.com" in message
    assert message.endswith("then run: vms-tray servers trust office")
    assert "nothing was sent" in message


def test_the_trust_hint_quotes_a_name_with_spaces_and_cyrillic() -> None:
    canned = Canned(_tls_failure(verify_error(18, "self-signed certificate")))
    with (
        HttpAdapter(
            URL,
            name="Склад №2 камеры",
            transport=canned.transport(),
            timeout=7.0,
            fetch_certificate=fake_certificate,
            now=lambda: NOW,
        ) as a,
        pytest.raises(CertificateUntrusted) as info,
    ):
        a.request("GET", "/sessions/current", bearer="tok-SECRET-123")
    assert str(info.value).endswith("then run: vms-tray servers trust 'Склад №2 камеры'")


@pytest.mark.parametrize(
    ("code", "words"),
    [(10, "has expired"), (62, "another name"), (9, "clock")],
)
def test_untrusted_reasons(code: int, words: str) -> None:
    err = fail(_tls_failure(verify_error(code, "x")))
    assert isinstance(err, CertificateUntrusted) and words in str(err)


def test_untrusted_with_ca_file_names_the_file() -> None:
    canned = Canned(_tls_failure(verify_error(20, "unable to get local issuer certificate")))
    trust = Trust(mode="ca-file", ca_file="/etc/vms/ca.pem")
    with adapter(canned, trust=trust) as a, pytest.raises(CertificateUntrusted) as info:
        a.request("GET", "/server")
    assert "/etc/vms/ca.pem" in str(info.value)


def test_untrusted_when_the_certificate_cannot_be_read_again() -> None:
    canned = Canned(_tls_failure(verify_error(18, "self-signed certificate")))
    with (
        adapter(canned, fetch=unreadable_certificate) as a,
        pytest.raises(CertificateUntrusted) as info,
    ):
        a.request("GET", "/server")
    assert info.value.fingerprint is None
    assert "SHA-256" not in str(info.value)


def test_pin_mismatch_shows_both_fingerprints() -> None:
    pinned, presented = ":".join(["11"] * 32), ":".join(["22"] * 32)
    err = fail(_tls_failure(tls.PinMismatch(pinned, presented)))
    assert isinstance(err, CertificateChanged)
    assert (err.pinned, err.presented) == (pinned, presented)
    assert pinned in str(err) and presented in str(err) and "nothing was sent" in str(err)


def test_other_tls_failure_is_unreachable() -> None:
    bad = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    bad.reason = "WRONG_VERSION_NUMBER"
    err = fail(_tls_failure(bad))
    assert type(err) is ServerUnreachable
    assert "secure connection" in str(err) and "WRONG_VERSION_NUMBER" in str(err)


def test_closed_adapter_refuses() -> None:
    a = adapter(Canned(ok(200, {})))
    a.close()
    with pytest.raises(ServerUnreachable, match="closed"):
        a.request("GET", "/server")


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


def test_server_text_is_cut_short() -> None:
    err = fail(problem("invalid-request", 400, detail="x" * 5000))
    assert len(str(err)) < 500


def test_reply_repr_hides_the_body() -> None:
    with adapter(Canned(ok(200, {"access_token": "tok-SECRET-123"}))) as a:
        reply = a.request("POST", "/sessions", json_body={})
    assert "tok-SECRET-123" not in repr(reply)


def test_requests_carry_bearer_and_json() -> None:
    canned = Canned(ok(200, {"a": 1}))
    with adapter(canned) as a:
        a.request("POST", "/sessions", json_body={"login": "op"}, bearer="tok-1234")
    (req,) = canned.requests
    assert req.url == "https://vms.example.com/api/v1/sessions"
    assert req.headers["authorization"] == "Bearer tok-1234"
    assert req.headers["content-type"] == "application/json"
    assert json.loads(req.content) == {"login": "op"}
    assert req.headers["user-agent"].startswith("vms-tray/")


def test_timeouts_are_explicit() -> None:
    canned = Canned(ok(200, {}))
    with adapter(canned) as a:
        a.request("GET", "/server")
    timeouts = canned.requests[0].extensions["timeout"]
    assert timeouts == {"connect": 7.0, "read": 7.0, "write": 7.0, "pool": 7.0}


# --- Retry-After ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("Fri, 27 Nov 2026 06:00:30 GMT", 30.0),
        ("Fri, 27 Nov 2026 05:00:00 GMT", 0.0),
        ("Friday, 27-Nov-26 06:01:00 GMT", 60.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


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


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("https://vms.example.com/api/v1", "vms.example.com"),
        ("https://vms.example.com:443/api/v1", "vms.example.com"),
        ("https://10.0.0.5:8443/api/v1", "10.0.0.5:8443"),
        ("https://[::1]:9443/api/v1", "[::1]:9443"),
    ],
)
def test_server_label(url: str, label: str) -> None:
    with HttpAdapter(url, transport=Canned(ok(200, {})).transport()) as a:
        assert a.label == label
