"""The headless daemon and the CLI against the AIPIX simulator over TLS: the seed's flow.

``vms-tray --debug run --headless`` runs as a real process in the test's profile, driven only
through the CLI; other devices are the aipix kind in profiles of their own.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.daemon.test_daemon_live import FAST, PASSWORD, DaemonProcess
from tests.support.components import wait_until
from tests.support.refserver import RefServer
from vms_tray import control, paths
from vms_tray.connections.model import Trust
from vms_tray.connections.rules import ConnectionList
from vms_tray.connections.store import ConnectionStore
from vms_tray.errors import SessionEnded
from vms_tray.kinds.aipix import AipixServer
from vms_tray.kinds.base import ClientInfo
from vms_tray.session.records import CaptchaAnswer, CaptchaChallenge, SignedIn, Tokens

from .helpers import aipix_for, simulator

pytestmark = pytest.mark.integration


class Daemon(DaemonProcess):
    """The live-daemon tests' real process (tests/integration/daemon/test_daemon_live.py), in the
    test's profile without a display; its secrets check leaves out the reference server's token
    shape, which AIPIX tokens do not share."""

    def __init__(self, workdir: Path) -> None:
        env = {**os.environ, **FAST}
        env.pop("DISPLAY", None)
        super().__init__(workdir, env)

    def start(self, *args: str, headless: bool = True) -> Daemon:
        super().start(*args, headless=headless)
        return self

    def quit(self) -> None:
        self.ok("quit")
        assert self.wait_exit() == 0

    def assert_no_secrets(self, *secrets: str) -> None:
        for text in (self.log(), self.stderr()):
            for secret in (PASSWORD, *secrets):
                assert secret not in text


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    d = Daemon(tmp_path)
    yield d
    d.kill()


def configure(server: RefServer) -> None:
    trust = Trust(mode="pinned", pin_sha256=server.fingerprint)

    def add(lst: ConnectionList) -> ConnectionList:
        return lst.add("HQ", server.url, "anna", kind="aipix", trust=trust)

    ConnectionStore().update(add)


def other(server: RefServer, tmp_path: Path, device: str) -> tuple[AipixServer, Tokens]:
    kind = aipix_for(server, tmp_path)
    info = ClientInfo(device, "vms-tray", "1.0")
    outcome = kind.sign_in("anna", PASSWORD, info)
    if isinstance(outcome, CaptchaChallenge):
        key = outcome.captcha.id
        outcome = kind.sign_in(
            "anna", PASSWORD, info, CaptchaAnswer(key, server.captcha_answer(key))
        )
    assert isinstance(outcome, SignedIn), outcome
    return kind, outcome.tokens


def devices(kind: AipixServer, tokens: Tokens) -> list[str]:
    return sorted(s.device for s in kind.list_sessions(tokens.access_token).sessions)


def start(factory: Callable[..., RefServer], *settings: str, **options: Any) -> RefServer:
    return simulator(factory, *settings, users={"anna": PASSWORD}, **options)


def test_captcha_sign_in_poll_and_quit_logs_out(
    refserver_factory: Callable[..., RefServer], daemon: Daemon, tmp_path: Path
) -> None:
    server = start(refserver_factory, captcha="always", max_sessions=3)
    configure(server)
    watcher, seen = other(server, tmp_path, "WATCHER")
    daemon.start()
    assert "captcha" in daemon.ok("signin", input=PASSWORD + "\n")
    daemon.wait_state("captcha_required")
    assert daemon.cli("captcha", "answer", "-", input="WRONG\n").returncode == 0
    daemon.ok("captcha", "refresh")
    key = str(control.request("captcha")["id"])
    out = daemon.ok("captcha", "answer", "-", input=server.captcha_answer(key) + "\n")
    assert "Signed in" in out
    daemon.wait_state("signed_in")
    assert devices(watcher, seen) == sorted(["WATCHER", os.uname().nodename])
    # The keep-alive is GET /sessions; the count comes with it.
    wait_until(lambda: daemon.status()["sessions_in_use"] == 2, 20, "a poll")
    daemon.quit()
    assert devices(watcher, seen) == ["WATCHER"]  # quit sent POST /logout
    # The X-UUID the server saw is the profile's device id (note §1), kept in the profile.
    device_id = (paths.data_dir() / "aipix-device-id").read_text().strip()
    with contextlib.closing(sqlite3.connect(server.data_dir / "server.sqlite3")) as db:
        seen_ids = {row[0] for row in db.execute("SELECT uuid FROM aipix_sessions")}
    assert device_id in seen_ids
    daemon.assert_no_secrets(seen.access_token)
    watcher.close()


def test_419_choose_a_session_in_the_cli_then_the_count_warns(
    refserver_factory: Callable[..., RefServer], daemon: Daemon, tmp_path: Path
) -> None:
    server = start(refserver_factory, max_sessions=2)
    configure(server)
    a, ta = other(server, tmp_path, "OPS-PC-12")
    b, tb = other(server, tmp_path, "OPS-PC-13")
    daemon.start()
    assert "No free session" in daemon.ok("signin", input=PASSWORD + "\n")
    daemon.wait_state("limit_reached")
    listing = json.loads(daemon.ok("sessions", "--json"))
    assert listing["limit"] == {"scope": "account", "max": 2, "active": 2}
    by_device = {s["device"]: s for s in listing["sessions"]}
    assert set(by_device) == {"OPS-PC-12", "OPS-PC-13"}
    assert by_device["OPS-PC-12"]["software"] == "vms-tray"
    assert by_device["OPS-PC-12"]["address"] == "127.0.0.1"
    # The table: AIPIX has no start time (SINCE unknown), but the last activity, and the
    # session the User Sessions window would recommend, marked.
    table = daemon.ok("sessions")
    assert "LAST ACTIVITY" in table and "just now" in table
    assert table.count("recommended") == 1
    out = daemon.ok("sessions", "end", by_device["OPS-PC-12"]["id"], "--yes")
    assert "Signed in" in out
    daemon.wait_state("signed_in")
    with pytest.raises(SessionEnded):
        a.check(ta)
    # The limit learnt from the 419 stays known: the count poll warns at the cap.
    wait_until(lambda: daemon.status()["max_sessions"] == 2, 20, "the learnt limit")
    b.sign_out(tb)
    wait_until(lambda: daemon.status()["sessions_in_use"] == 1, 20, "a seat freed")
    c, tc = other(server, tmp_path, "OPS-PC-14")
    wait_until(lambda: daemon.notices("all seats in use: 2 of 2") == 1, 20, "the cap notice")
    daemon.quit()
    assert devices(c, tc) == ["OPS-PC-14"]
    for kind in (a, b, c):
        kind.close()


def test_the_learnt_limit_warns_one_seat_before_the_cap(
    refserver_factory: Callable[..., RefServer], daemon: Daemon, tmp_path: Path
) -> None:
    # GET /sessions names no limit (note §3 E4): the one a 419 stated (§3 E3 sessions_limit)
    # is remembered, and a poll at limit - 1 in use warns as for the other kinds.
    server = start(refserver_factory, max_sessions=3)
    configure(server)
    held = [other(server, tmp_path, f"OPS-PC-{n}") for n in (12, 13, 14)]
    daemon.start()
    assert "No free session" in daemon.ok("signin", input=PASSWORD + "\n")
    listing = json.loads(daemon.ok("sessions", "--json"))
    assert listing["limit"] == {"scope": "account", "max": 3, "active": 3}
    victim = next(s["id"] for s in listing["sessions"] if s["device"] == "OPS-PC-14")
    assert "Signed in" in daemon.ok("sessions", "end", victim, "--yes")
    daemon.wait_state("signed_in")
    for kind, tokens in held[:2]:
        kind.sign_out(tokens)
    wait_until(lambda: daemon.status()["sessions_in_use"] == 1, 20, "two seats freed")
    assert daemon.status()["max_sessions"] == 3  # learnt from the 419, not from the poll
    assert daemon.notices("seat left") == 0
    late, late_tokens = other(server, tmp_path, "OPS-PC-15")
    wait_until(
        lambda: daemon.notices("HQ: 1 seat left: 2 of 3 sessions in use") == 1, 20, "the warning"
    )
    # 'as of': the limit may have changed since the 419 stated it.
    assert "(limit 3, as of " in daemon.ok("status")
    daemon.quit()
    assert devices(late, late_tokens) == ["OPS-PC-15"]
    for kind, _tokens in held:
        kind.close()
    late.close()


def answer_captcha(daemon: Daemon, server: RefServer) -> str:
    key = str(control.request("captcha")["id"])
    return daemon.ok("captcha", "answer", "-", input=server.captcha_answer(key) + "\n")


def test_waiting_for_a_seat_where_every_sign_in_needs_a_captcha(
    refserver_factory: Callable[..., RefServer], daemon: Daemon, tmp_path: Path
) -> None:
    # note §3 E3: with the captcha on, a sign-in without session_id needs one, so each seat
    # retry of "wait" meets a captcha. The user is asked (issue 10 item 7), once per wait, and
    # nothing asks again by itself.
    server = start(refserver_factory, captcha="always", max_sessions=1)
    configure(server)
    a, ta = other(server, tmp_path, "OPS-PC-12")
    daemon.start()
    assert "captcha" in daemon.ok("signin", input=PASSWORD + "\n")
    daemon.wait_state("captcha_required")
    assert "No free session" in answer_captcha(daemon, server)
    daemon.wait_state("limit_reached")
    daemon.ok("wait", "--timeout", "0")
    daemon.wait_state("captcha_required")
    wait_until(
        lambda: daemon.notices("captcha required to keep waiting") == 1, 20, "the wait's captcha"
    )
    assert not daemon.status()["waiting_for_seat"]  # nothing retries while the captcha waits
    answer_captcha(daemon, server)  # the try it makes meets the limit again
    daemon.wait_state("limit_reached")
    wait_until(lambda: daemon.notices("stopped waiting") == 1, 20, "the end of the wait")
    assert not daemon.status()["waiting_for_seat"]
    captchas, tokens = daemon.log().count("/api/v1/captcha"), daemon.log().count("/api/v1/token")
    # Longer than the seat retry (0.5 s here): a loop would have asked again by now.
    for _ in range(4):
        assert daemon.status()["state"] == "limit_reached"
        daemon.ok("status")
    assert daemon.log().count("/api/v1/captcha") == captchas
    assert daemon.log().count("/api/v1/token") == tokens
    assert daemon.notices("captcha required") == 2  # the sign-in's and the wait's
    # Waiting again is asked once more; with the seat freed meanwhile, the answer signs in.
    a.sign_out(ta)
    daemon.ok("wait", "--timeout", "0")
    daemon.wait_state("captcha_required")
    wait_until(
        lambda: daemon.notices("captcha required to keep waiting") == 2, 20, "the second wait"
    )
    assert "Signed in" in answer_captcha(daemon, server)
    daemon.wait_state("signed_in")
    wait_until(lambda: daemon.notices("a seat freed up") == 1, 20, "the seat notice")
    daemon.quit()
    a.close()


@pytest.mark.parametrize(
    ("websocket", "poll"),
    [("full", "60"), ("off", "0.5")],
    ids=["pushed-at-once", "no-websocket-the-poll-notices"],
)
def test_ended_by_another_device(
    refserver_factory: Callable[..., RefServer],
    daemon: Daemon,
    tmp_path: Path,
    websocket: str,
    poll: str,
) -> None:
    # note §3 E12: with the push the daemon hears at once (its poll is a minute away here);
    # without a websocket the poll's 401 notices.
    server = start(refserver_factory, f"websocket={websocket}", max_sessions=3)
    configure(server)
    daemon.env["VMS_TRAY_POLL_INTERVAL"] = poll
    daemon.start()
    daemon.ok("signin", input=PASSWORD + "\n")
    daemon.wait_state("signed_in")
    if websocket == "full":
        wait_until(lambda: "listening to" in daemon.log(), 20, "the push listener")
    a, ta = other(server, tmp_path, "OPS-PC-12")
    ours = next(s.id for s in a.list_sessions(ta.access_token).sessions if s.device != "OPS-PC-12")
    a.end_session(ta.access_token, ours)
    daemon.wait_state("ended", timeout=10)
    wait_until(lambda: daemon.notices("signed out") >= 1, 20, "the ended notice")
    assert daemon.status()["state"] == "ended"  # and no sign-in by itself
    assert devices(a, ta) == ["OPS-PC-12"]
    if websocket == "full":
        assert "pushed a logout" in daemon.log()
    else:
        assert "offers no websocket push" in daemon.log()
    a.close()


def test_maintenance_keeps_the_session(
    refserver_factory: Callable[..., RefServer], daemon: Daemon
) -> None:
    server = start(refserver_factory)
    configure(server)
    daemon.start()
    daemon.ok("signin", input=PASSWORD + "\n")
    daemon.wait_state("signed_in")
    server.set_busy()
    daemon.wait_state("reconnecting")
    server.clear_busy()
    daemon.wait_state("signed_in", timeout=30)
    daemon.quit()


def test_throttled_says_when_to_try_again_and_never_loops(
    refserver_factory: Callable[..., RefServer], daemon: Daemon
) -> None:
    # note §3 E2 429: 20 captchas per address in 10 minutes; the 21st is refused
    server = start(refserver_factory, captcha="always")
    configure(server)
    with server.client(headers={"Accept": "application/json"}) as http:
        for _ in range(20):
            assert http.get("/api/v1/captcha").status_code == 200
    daemon.start()
    out = daemon.cli("signin", input=PASSWORD + "\n")
    assert "try again in 10 min" in out.stdout + out.stderr, (out.stdout, out.stderr)
    tries = daemon.log().count("/api/v1/captcha")
    # Longer than the retry backoff's cap (1 s here): a loop would have asked again by now.
    for _ in range(3):
        assert "try again" in daemon.ok("status") or daemon.status()["state"] != "signed_in"
    assert daemon.status()["state"] != "signed_in"
    assert daemon.log().count("/api/v1/captcha") == tries  # nothing retried by itself
    assert daemon.notices("try again in 10 min") <= 1
    daemon.quit()
