"""GET /api/v1/events (protocol v1.1) on the real reference server over TLS: what a stream says
when sessions open and end, an ended session's last event, idle timeouts, and waiters' streams."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.support.refserver import RefServer, refserver_factory  # noqa: F401 - fixture
from vms_tray.net.sse import Event, Parser

pytestmark = pytest.mark.integration

WAIT = 15.0  # bounded waits: the sweeper runs every 5 s


def sign_in(http: httpx.Client, device: str) -> httpx.Response:
    client = {"device": device, "software": "test", "version": "1"}
    return http.post("/api/v1/sessions", json={"login": "anna", "password": "pw", "client": client})


@contextmanager
def stream(server: RefServer, bearer: str) -> Iterator[queue.Queue[Event | None]]:
    """The stream's events, read on a thread; None once the server closed it."""
    got: queue.Queue[Event | None] = queue.Queue()
    http = server.client(timeout=httpx.Timeout(10, read=30))
    opened = threading.Event()

    def read() -> None:
        parser = Parser()
        try:
            headers = {"Authorization": f"Bearer {bearer}", "Accept": "text/event-stream"}
            with http.stream("GET", "/api/v1/events", headers=headers) as r:
                assert r.status_code == 200 and r.headers["content-type"].startswith(
                    "text/event-stream"
                )
                opened.set()
                for line in r.iter_lines():
                    if (event := parser.feed(line)) is not None:
                        got.put(event)
        except httpx.HTTPError:
            pass
        finally:
            got.put(None)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    try:
        yield got
    finally:
        http.close()
        thread.join(5)


def next_event(got: queue.Queue[Event | None]) -> Event:
    event = got.get(timeout=WAIT)
    assert event is not None, "the stream closed"
    return event


def sessions(event: Event) -> dict[str, Any]:
    assert event.name == "sessions", event
    data: dict[str, Any] = json.loads(event.data)
    return data


def test_a_stream_follows_the_accounts_sessions_and_ends_with_its_own(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
) -> None:
    server = refserver_factory(max_sessions=3)
    with server.client() as http:
        info = http.get("/api/v1/server").json()
        assert info["api_version"] == "1.1" and "events" in info["features"]
        mine = sign_in(http, "MINE").json()
        with stream(server, mine["access_token"]) as got:
            first = sessions(next_event(got))
            assert first["limit"]["active"] == 1 and first["sessions"][0]["current"]
            other = sign_in(http, "OPS-PC-12").json()
            second = sessions(next_event(got))
            assert second["limit"]["active"] == 2
            assert {s["device"] for s in second["sessions"]} == {"MINE", "OPS-PC-12"}
            bearer = {"Authorization": f"Bearer {other['access_token']}"}
            assert (
                http.delete(f"/api/v1/sessions/{mine['session_id']}", headers=bearer).status_code
                == 204
            )
            ended = next_event(got)
            assert ended.name == "ended"
            body = json.loads(ended.data)
            assert body["reason"] == "ended_by_other" and body["ended_by"]["device"] == "OPS-PC-12"
            assert got.get(timeout=WAIT) is None  # closed at once after it


def test_an_idle_timeout_reaches_the_stream(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
) -> None:
    server = refserver_factory(idle_timeout=60)
    with server.client() as http:
        mine = sign_in(http, "MINE").json()
        with stream(server, mine["access_token"]) as got:
            sessions(next_event(got))
            server.advance_clock(120)  # the stream itself is not activity
            ended = next_event(got)
            assert ended.name == "ended" and json.loads(ended.data)["reason"] == "idle_timeout"


def test_a_waiter_at_the_limit_streams_with_its_conflict_token(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
) -> None:
    server = refserver_factory(max_sessions=1)
    with server.client() as http:
        holder = sign_in(http, "HOLDER").json()
        conflict = sign_in(http, "WAITER")
        assert conflict.status_code == 409
        with stream(server, conflict.json()["conflict_token"]) as got:
            listed = sessions(next_event(got))
            assert [s["device"] for s in listed["sessions"]] == ["HOLDER"]
            bearer = {"Authorization": f"Bearer {holder['access_token']}"}
            assert http.delete("/api/v1/sessions/current", headers=bearer).status_code == 204
            freed = sessions(next_event(got))
            assert freed["limit"]["active"] == 0  # a seat is free: the waiter finishes now


def test_a_stream_refuses_a_bad_bearer_with_a_problem(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
) -> None:
    server = refserver_factory()
    with server.client() as http:
        r = http.get("/api/v1/events", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["type"].endswith("/token-expired")
