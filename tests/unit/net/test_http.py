"""net.http: the adapter's replies, statuses, retries, headers and timeouts."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.unit.kinds.fakes import Canned, ok
from tests.unit.net.helpers import NOW, adapter, fail
from vms_tray.errors import BadResponse, NetworkError, ServerBusy, ServerUnreachable
from vms_tray.net.http import HttpAdapter, parse_retry_after

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


# 60 KB of brackets: deeper than json's parser goes (RecursionError), as a hostile server sends.
NESTED = b"[" * 60_000


def _nested(status: int, media: str = "application/json") -> httpx.MockTransport:
    return httpx.MockTransport(
        lambda _: httpx.Response(status, headers={"Content-Type": media}, content=NESTED)
    )


def test_deeply_nested_json_is_a_bad_response_not_a_recursion_error() -> None:
    a = HttpAdapter("https://vms.example.com", transport=_nested(200))
    with a, pytest.raises(BadResponse, match="malformed JSON"):
        a.request("GET", "/sessions")


def test_deeply_nested_json_in_an_accepted_status_or_an_error_is_no_data() -> None:
    with HttpAdapter("https://vms.example.com", transport=_nested(401)) as a:
        assert a.request("POST", "/x", accept=(401,)).data is None
    a = HttpAdapter("https://vms.example.com", transport=_nested(502))
    with a, pytest.raises(ServerBusy, match="unexpected JSON body"):
        a.request("GET", "/sessions")


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


def test_closed_adapter_refuses() -> None:
    a = adapter(Canned(ok(200, {})))
    a.close()
    with pytest.raises(ServerUnreachable, match="closed"):
        a.request("GET", "/server")


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


# --- streams (protocol v1.1's events) -------------------------------------------------------------


def test_a_stream_is_read_line_by_line_with_the_bearer_and_the_event_media_type() -> None:
    body = b"retry: 3000\n\nevent: sessions\ndata: {}\n\n"
    canned = Canned(
        httpx.Response(200, headers={"Content-Type": "text/event-stream"}, content=body)
    )
    with adapter(canned) as a, a.stream("/events", bearer="tok-1", read_timeout=45) as lines:
        got = list(lines)
    assert got == ["retry: 3000", "", "event: sessions", "data: {}", ""]
    sent = canned.requests[0].headers
    assert sent["authorization"] == "Bearer tok-1" and sent["accept"].startswith("text/event")


def test_a_stream_answered_with_an_error_raises_as_a_request_would() -> None:
    canned = Canned(httpx.Response(503, headers={"Retry-After": "7"}, content=b"down"))
    with (
        adapter(canned) as a,
        pytest.raises(ServerBusy) as err,
        a.stream("/events", bearer="tok-1", read_timeout=45),
    ):
        pass
    assert err.value.retry_after == 7.0


def test_a_stream_of_another_media_type_is_a_bad_response() -> None:
    canned = Canned(ok(200, {"sessions": []}))
    with (
        adapter(canned) as a,
        pytest.raises(BadResponse, match="keeps polling"),
        a.stream("/events", bearer="tok-1", read_timeout=45),
    ):
        pass


def test_a_stream_cut_while_reading_is_a_network_error() -> None:
    def cut() -> httpx.Response:
        def lines() -> Iterator[bytes]:
            yield b"data: one\n\n"
            raise httpx.ReadTimeout("silence")

        return httpx.Response(200, headers={"Content-Type": "text/event-stream"}, content=lines())

    with (
        adapter(Canned(cut)) as a,
        pytest.raises(NetworkError),
        a.stream("/events", bearer="tok-1", read_timeout=45) as lines,
    ):
        assert next(lines) == "data: one"
        list(lines)
