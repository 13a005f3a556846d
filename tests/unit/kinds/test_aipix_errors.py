"""AIPIX's error statuses as our exceptions (note §1): each says what to do, none leaks a
secret, and the statuses a call interprets itself are left to it."""

from __future__ import annotations

import httpx
import pytest

from tests.unit.net import helpers
from vms_tray.errors import (
    AccessDenied,
    LoginThrottled,
    ProtocolError,
    ServerBusy,
    SessionEnded,
    SessionNotFound,
    Unsupported,
)
from vms_tray.kinds.aipix_errors import THROTTLE_WINDOW, AipixErrors, ended, throttled
from vms_tray.net.http import HttpAdapter, Refusal

SECRET = "s3cret-token"


def refusal(retry_after: float | None = None) -> Refusal:
    return Refusal("vms.example.com", retry_after, lambda text: text.replace(SECRET, "***"))


def response(status: int, message: str | None = None) -> httpx.Response:
    if message is None:
        return httpx.Response(status)
    return httpx.Response(status, json={"message": message})


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, SessionEnded),
        (402, ProtocolError),
        (403, AccessDenied),
        (404, SessionNotFound),
        (409, Unsupported),
        (429, LoginThrottled),
        (503, ServerBusy),
    ],
)
def test_each_status_is_one_exception(status: int, error: type[Exception]) -> None:
    found = AipixErrors().error(response(status, f"echo {SECRET}"), refusal())
    assert isinstance(found, error)
    assert SECRET not in str(found) and "vms.example.com" in str(found)


def test_others_are_left_to_the_adapter() -> None:
    assert AipixErrors().error(response(500), refusal()) is None
    assert AipixErrors().name(response(422)) is None


def test_an_html_or_empty_body_is_no_message() -> None:
    page = httpx.Response(503, text="<html>down</html>", headers={"Content-Type": "text/html"})
    found = AipixErrors().error(page, refusal(30))
    assert isinstance(found, ServerBusy) and "<html>" not in str(found)
    assert found.retry_after == 30


def test_throttled_waits_for_the_server_or_the_window() -> None:
    assert throttled("x", None).retry_after == THROTTLE_WINDOW
    assert "try again in 2 min" in str(throttled("x", 90))


def test_ended_says_whose_doing_it_was() -> None:
    assert ended("x").reason == "ended_by_other"
    assert ended("x", by_us=True).reason == "logout"


@pytest.mark.parametrize("status", [402, 403, 409, 503])
def test_the_servers_message_reaches_ours_escaped(status: int) -> None:
    # Issue 14 item 4: through the adapter, whose Scrubber neutralises what the server wrote.
    err = helpers.fail(response(status, "EVIL\x1b]0;title\x07\x1b[2J \u202e"), AipixErrors())
    assert "(EVIL\\x1b]0;title\\x07\\x1b[2J \\u202e)" in str(err)
    assert not any(c in str(err) for c in "\x1b\x07\u202e")


@pytest.mark.parametrize(("status", "error"), [(403, AccessDenied), (503, ServerBusy)])
def test_a_deeply_nested_body_is_no_message_and_no_recursion_error(
    status: int, error: type[Exception]
) -> None:
    nested = httpx.Response(
        status, headers={"Content-Type": "application/json"}, content=b"[" * 60_000
    )
    transport = httpx.MockTransport(lambda _: nested)
    a = HttpAdapter("https://vms.example.com", transport=transport, error_format=AipixErrors())
    with a, pytest.raises(error) as info:
        a.request("GET", "/api/v1/users/me")
    assert "(HTTP " in str(info.value) and "[[" not in str(info.value)
