"""The events-stream follower against canned streams (httpx.MockTransport): what makes the
daemon check, what it reports as live, and how it reconnects."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator

import httpx

from vms_tray.errors import ServerUnreachable
from vms_tray.kinds.native_events import EventFollower
from vms_tray.kinds.problems import ProblemFormat
from vms_tray.net.http import HttpAdapter

from .fakes import Canned, problem

WAIT = 5.0  # bounded waits for the follower's thread


def stream(*events: str) -> Callable[[], httpx.Response]:
    body = "".join(events).encode()
    return lambda: httpx.Response(200, headers={"Content-Type": "text/event-stream"}, content=body)


def sessions(eid: int, active: int) -> str:
    return f'id: {eid}\nevent: sessions\ndata: {{"limit": {{"active": {active}}}}}\n\n'


ENDED = problem("session-ended", 401, reason="ended_by_other")


class Heard:
    def __init__(self) -> None:
        self.changes = 0
        self.live: list[bool] = []
        self.up = threading.Event()

    def change(self) -> None:
        self.changes += 1

    def on_live(self, live: bool) -> None:
        self.live.append(live)
        if live:
            self.up.set()


def follower(
    canned: Canned, heard: Heard, features: frozenset[str] = frozenset({"events"})
) -> EventFollower:
    http = HttpAdapter(
        "https://vms.example.com/api/v1",
        transport=canned.transport(),
        timeout=5.0,
        error_format=ProblemFormat(),
    )
    f = EventFollower(
        http,
        features=lambda: features,
        label="vms.example.com",
        rng=random.Random(1),
        backoff_first=0.01,
    )
    f.on_change, f.on_live, f.wanted = heard.change, heard.on_live, True
    return f


def test_changes_make_the_daemon_check_and_a_reconnect_resumes_from_the_last_id() -> None:
    canned = Canned(
        stream(": keep-alive\n\n", sessions(1, 1), sessions(2, 2)),
        stream(sessions(2, 2), 'id: 3\nevent: handover-requested\ndata: {"grace": 60}\n\n'),
        ENDED,
    )
    heard = Heard()
    f = follower(canned, heard)
    f.follow("acc-1")
    assert f.join(WAIT)
    # 1 and 2 are news; 2 again after the reconnect is not; the handover is; the end is.
    assert heard.changes == 4
    assert heard.live == [True, False]
    first, second, third = canned.requests
    assert first.url.path == "/api/v1/events" and "last-event-id" not in first.headers
    assert second.headers["last-event-id"] == "2" and third.headers["last-event-id"] == "3"
    assert all(r.headers["authorization"] == "Bearer acc-1" for r in canned.requests)


def test_a_server_without_the_feature_is_not_streamed_from() -> None:
    canned = Canned(ENDED)
    heard = Heard()
    f = follower(canned, heard, features=frozenset())
    f.follow("acc-1")
    assert f.join(WAIT)
    assert canned.requests == [] and heard.changes == 0 and heard.live == []


def test_nothing_is_followed_until_the_daemon_listens() -> None:
    canned = Canned(ENDED)
    heard = Heard()
    f = follower(canned, heard)
    f.wanted = False
    f.follow("acc-1")
    assert f.join(WAIT) and canned.requests == []


def test_an_expired_token_waits_for_the_next_refresh_then_goes_on_with_it() -> None:
    gate = threading.Event()

    def expired() -> httpx.Response:
        gate.set()
        return problem("token-expired", 401)

    canned = Canned(expired, stream(sessions(1, 1)), ENDED)
    heard = Heard()
    f = follower(canned, heard)
    f.follow("acc-1")
    assert gate.wait(WAIT)
    f.follow("acc-2")  # the daemon refreshed
    assert f.join(WAIT)
    assert [r.headers["authorization"] for r in canned.requests] == [
        "Bearer acc-1",
        "Bearer acc-2",
        "Bearer acc-2",
    ]
    assert heard.changes == 2  # the sessions event, then the end


def test_a_lost_connection_is_retried_and_reported_down_meanwhile() -> None:
    canned = Canned(
        stream(sessions(1, 1)), ServerUnreachable("gone"), stream(sessions(1, 1)), ENDED
    )
    heard = Heard()
    f = follower(canned, heard)
    f.follow("acc-1")
    assert f.join(WAIT)
    assert len(canned.requests) == 4
    assert heard.live == [True, False, True, False]


def test_stop_ends_the_thread_without_calling_back() -> None:
    release = threading.Event()

    def slow() -> httpx.Response:
        def body() -> Iterator[bytes]:
            yield sessions(1, 1).encode()
            release.wait(WAIT)
            yield sessions(2, 2).encode()

        return httpx.Response(200, headers={"Content-Type": "text/event-stream"}, content=body())

    canned = Canned(slow, ENDED)
    heard = Heard()
    f = follower(canned, heard)
    f.follow("acc-1")
    assert heard.up.wait(WAIT)
    f.stop()
    release.set()
    assert f.join(WAIT)
    assert heard.changes == 1 and heard.live == [True, False] and not f.running


def test_an_end_whose_data_is_nested_too_deep_is_no_crash() -> None:
    # A hostile server's 60 KB of '[' as the reason of an end: json raises RecursionError,
    # which used to kill the thread; now the reason is "no reason given" and it goes on.
    canned = Canned(stream("id: 1\nevent: ended\ndata: " + "[" * 60_000 + "\n\n"), ENDED)
    heard = Heard()
    f = follower(canned, heard)
    f.follow("acc-1")
    assert f.join(WAIT)
    assert heard.changes == 2  # the end heard, then the stream's own report of it


def test_an_ended_event_takes_the_stream_down_at_once() -> None:
    # The server closes the stream after "ended": the daemon must not count on it while the
    # follower reconnects (here the end's event stays open, as a slow close would).
    release = threading.Event()

    def ended_then_held() -> httpx.Response:
        def body() -> Iterator[bytes]:
            yield b'id: 1\nevent: ended\ndata: {"reason": "logout"}\n\n'
            release.wait(WAIT)

        return httpx.Response(200, headers={"Content-Type": "text/event-stream"}, content=body())

    canned = Canned(ended_then_held, ENDED)
    heard = Heard()
    f = follower(canned, heard)
    f.follow("acc-1")
    try:
        deadline = time.monotonic() + WAIT
        while heard.live != [True, False] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert heard.live == [True, False]  # down at the ended event, before any reconnect
        assert len(canned.requests) == 1
    finally:
        release.set()
    assert f.join(WAIT)
