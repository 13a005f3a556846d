"""Protocol v1.1 between real processes: a headless daemon and the reference server over TLS on
loopback. News reaches the daemon through its events stream, not its poll (the polls here are an
hour apart)."""

from __future__ import annotations

import functools
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.daemon.test_daemon_live import (
    FAST,
    PASSWORD,
    DaemonProcess,
    configure,
    other_device,
)
from tests.support.components import wait_until
from tests.support.proxy import TinyProxy, tinyproxy  # noqa: F401 - fixture
from tests.support.refserver import RefServer, refserver_factory  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

# Polls an hour apart: whatever arrives within seconds came by the stream.
SLOW_POLLS = {**FAST, "VMS_TRAY_POLL_INTERVAL": "3600", "VMS_TRAY_LIVE_POLL_INTERVAL": "3600"}


class Device(DaemonProcess):
    """A daemon with a profile of its own, asked through its own CLI."""

    def status(self) -> dict[str, Any]:
        return self.cli_status()


@pytest.fixture
def device_factory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Device]]:
    """``make(name, server, **env)``: a daemon with a profile of its own (not started)."""
    made: list[Device] = []

    def make(name: str, server: RefServer, **extra: str) -> Device:
        profile = tmp_path / f"profile-{name}"
        monkeypatch.setenv("VMS_TRAY_PROFILE", str(profile))
        configure(("office", server))  # into this profile
        env = {**os.environ, **SLOW_POLLS, **extra, "VMS_TRAY_PROFILE": str(profile)}
        env.pop("DISPLAY", None)
        work = tmp_path / name
        work.mkdir()
        d = Device(work, env)
        made.append(d)
        return d

    yield make
    for d in made:
        d.kill()


def wait_status(
    d: Device, test: Callable[[dict[str, Any]], bool], what: str, timeout: float
) -> float:
    """Seconds until ``test(status)`` held."""
    start = time.monotonic()
    wait_until(lambda: test(d.status()), timeout, what)
    return time.monotonic() - start


def test_a_session_ended_elsewhere_is_heard_at_once_through_the_stream(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    device_factory: Callable[..., Device],
) -> None:
    server = refserver_factory(users={"anna": PASSWORD}, max_sessions=3)
    a = device_factory("a", server).start()
    a.sign_in()
    wait_until(lambda: "events stream up" in a.log(), 20, "A's events stream")
    ours = next(s for s in server_list(server) if s["device"] != "OPS-PC-12")
    other = other_device(server, "OPS-PC-12")
    # A second device in: A's count follows without a poll.
    wait_status(a, lambda s: s["sessions_in_use"] == 2, "A sees 2 sessions", 10)
    other.kind.end_session(other.tokens.access_token, ours["id"])
    took = wait_status(a, lambda s: s["state"] == "ended", "A ended", 10)
    assert took < 5, took  # an hour-long poll interval: only the stream can have said it
    assert a.status()["ended_by"].startswith("OPS-PC-12")
    assert a.notices("Your session was ended from OPS-PC-12") == 1
    other.close()


def server_list(server: RefServer) -> list[dict[str, Any]]:
    other = other_device(server, "LISTER")
    try:
        return [
            {"id": s.id, "device": s.device}
            for s in other.kind.list_sessions(other.tokens.access_token).sessions
            if s.device != "LISTER"
        ]
    finally:
        other.kind.sign_out(other.tokens)
        other.close()


def streams_up(d: Device) -> int:
    return d.log().count("events stream up")


def test_the_stream_comes_back_after_the_server_restarts(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    device_factory: Callable[..., Device],
) -> None:
    """Stream loss and resume: the server goes away and comes back (same data, same port);
    the daemon's stream reconnects by itself and news arrives at once again."""
    server = refserver_factory(users={"anna": PASSWORD}, max_sessions=3)
    a = device_factory("a", server).start()
    a.sign_in()
    wait_until(lambda: streams_up(a) == 1, 20, "A's events stream")
    ours = a.our_session_id()
    server.kill()
    server.restart()
    wait_until(lambda: streams_up(a) == 2, 30, "A's stream to come back")
    assert a.status()["state"] == "signed_in"
    other = other_device(server, "OPS-PC-12")
    other.kind.end_session(other.tokens.access_token, ours)
    took = wait_status(a, lambda s: s["state"] == "ended", "A ended", 10)
    assert took < 5, took  # hour-long polls: the resumed stream said it
    other.close()


def test_the_stream_runs_through_the_proxy(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    device_factory: Callable[..., Device],
    tinyproxy: TinyProxy,  # noqa: F811
) -> None:
    """The stream takes the same road as every request: the user's proxy (a tunnel of its own
    through tinyproxy) and the pinned certificate inside it."""
    server = refserver_factory(users={"anna": PASSWORD}, max_sessions=3)
    a = device_factory("a", server, https_proxy=tinyproxy.url, no_proxy="").start()
    a.sign_in()
    wait_until(lambda: streams_up(a) == 1, 20, "A's events stream")
    assert tinyproxy.tunnels() >= 2  # the requests' tunnel and the stream's
    ours = a.our_session_id()
    other = other_device(server, "OPS-PC-12")
    wait_status(a, lambda s: s["sessions_in_use"] == 2, "A sees 2 sessions", 10)
    other.kind.end_session(other.tokens.access_token, ours)
    took = wait_status(a, lambda s: s["state"] == "ended", "A ended", 10)
    assert took < 5, took
    other.close()


def at_place(n: int, status: dict[str, Any]) -> bool:
    return bool(status["queue_position"] == n)


def at_the_limit(d: Device) -> None:
    d.ok("signin", input=PASSWORD + "\n")
    wait_status(d, lambda s: s["state"] == "limit_reached", "the limit", 20)


@pytest.mark.parametrize("release", ["released", "grace-ran-out"])
def test_a_handover_between_two_vms_tray_instances(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    device_factory: Callable[..., Device],
    release: str,
) -> None:
    """B, at the limit, asks A's session to hand over. A hears it at once with B named, and
    releases (or lets the grace run out); the seat is held for B, whose sign-in finishes by
    itself, and A is told its seat went to B. Nobody typed a password twice."""
    server = refserver_factory(
        users={"anna": PASSWORD}, max_sessions=1, extra_args=["--handover-grace", "4"]
    )
    a = device_factory("a", server).start()
    a.sign_in()
    wait_until(lambda: "events stream up" in a.log(), 20, "A's events stream")
    ours = a.our_session_id()
    b = device_factory("b", server).start()
    at_the_limit(b)
    b.ok("sessions", "handover", ours)
    took = wait_status(a, lambda s: s["handover_deadline"] is not None, "A hears it", 10)
    assert took < 3, took  # hour-long polls: only the stream can have said it
    assert a.status()["handover_by"].startswith(socket.gethostname())
    wait_until(lambda: a.notices("needs this seat") == 1, 5, "A's handover notice")
    if release == "released":
        a.ok("signout")  # what "Release now" posts
    took = wait_status(b, lambda s: s["state"] == "signed_in", "B signed in by itself", 20)
    assert took < 10, took
    listing = json.loads(b.ok("sessions", "--json"))
    assert [e["id"] for e in listing["sessions"]] == [b.our_session_id()] != [ours]
    assert b.notices("a seat freed up") == 1
    if release == "grace-ran-out":
        wait_status(a, lambda s: s["state"] == "ended", "A ended", 10)
        assert a.status()["ended_by"].startswith(socket.gethostname())
    else:
        assert a.status()["state"] == "signed_out"


def test_a_queue_of_three_waiters_is_served_in_order(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    device_factory: Callable[..., Device],
) -> None:
    """Three daemons wait at a one-seat account; each freed seat goes to the head of the line,
    and the others hear their new place through their streams."""
    server = refserver_factory(users={"anna": PASSWORD}, max_sessions=1)
    holder = other_device(server, "OPS-PC-12")
    waiters = [device_factory(name, server).start() for name in ("b", "c", "d")]
    for n, d in enumerate(waiters, 1):
        at_the_limit(d)
        d.ok("wait")
        wait_status(d, functools.partial(at_place, n), f"place {n}", 20)
    holder.kind.sign_out(holder.tokens)
    holder.close()
    for n, d in enumerate(waiters):
        wait_status(d, lambda s: s["state"] == "signed_in", f"waiter {n + 1} signed in", 20)
        behind = waiters[n + 1 :]
        for place, w in enumerate(behind, 1):
            wait_status(w, functools.partial(at_place, place), f"place {place}", 10)
            assert w.status()["state"] == "limit_reached"
        d.ok("signout")  # frees the seat for the next in line
    assert waiters[-1].status()["state"] == "signed_out"
