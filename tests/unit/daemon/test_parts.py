"""The daemon's small parts: control channel, settings, wording, clocks."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.components import wait_until
from tests.unit.daemon.fakes import FakeClock, Sim
from vms_tray import commands as C
from vms_tray import control, paths
from vms_tray.daemon import settings as settings_mod
from vms_tray.daemon.clock import JumpDetector
from vms_tray.daemon.handler import ControlHandler
from vms_tray.daemon.notices import seats
from vms_tray.errors import (
    ConfigError,
    ControlError,
    DaemonNotRunning,
    InvalidInput,
    Unsupported,
)


def test_control_round_trip_errors_and_permissions() -> None:
    def handler(req: dict[str, Any]) -> Any:
        if req["cmd"] == "boom":
            raise InvalidInput("that value breaks a rule")
        if req["cmd"] == "crash":
            raise RuntimeError("secret-token-123")
        return {"echo": req.get("x")}

    server = control.ControlServer(handler)
    server.start()
    try:
        path = control.socket_path()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert control.request("echo", x=[1, "ü"]) == {"echo": [1, "ü"]}
        with pytest.raises(control.RemoteError) as info:
            control.request("boom")
        assert str(info.value) == "that value breaks a rule" and info.value.code == "InvalidInput"
        with pytest.raises(control.RemoteError) as info:
            control.request("crash")
        assert "secret" not in str(info.value) and "RuntimeError" in str(info.value)
    finally:
        server.close()
    with pytest.raises(DaemonNotRunning):
        control.request("status")


def test_close_lets_the_answer_in_progress_go_out_first() -> None:
    """The runner closes the socket as soon as the daemon stopped; the answer to the request
    that stopped it ("quit") must still reach the CLI (request threads die with the process)."""
    called, release = threading.Event(), threading.Event()

    def handler(req: dict[str, Any]) -> Any:
        called.set()
        release.wait(10)
        return "bye"

    server = control.ControlServer(handler)
    server.start()
    replies: list[Any] = []
    client = threading.Thread(target=lambda: replies.append(control.request("quit", timeout=10)))
    client.start()
    assert called.wait(10)
    closed = threading.Event()

    def close() -> None:
        server.close(drain=10)
        closed.set()

    closer = threading.Thread(target=close)
    closer.start()
    # close() waits for the answer in progress instead of returning (and the process exiting).
    assert not closed.wait(0.3)
    release.set()
    assert closed.wait(10)
    client.join(10)
    assert replies == ["bye"]
    with pytest.raises(DaemonNotRunning):
        control.request("ping")


def test_stale_socket_is_replaced(tmp_path: Path) -> None:
    path = control.socket_path()
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_text("left by a crash")
    with pytest.raises(DaemonNotRunning):
        control.request("status")
    server = control.ControlServer(lambda req: "fresh")
    server.start()
    try:
        assert control.request("ping") == "fresh"
    finally:
        server.close()


def test_long_profile_paths_keep_the_socket_in_the_private_run_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over the AF_UNIX limit the socket stays where it belongs (reached through the folder's
    descriptor), not in a predictable folder of the shared temp dir."""
    deep = tmp_path / ("d" * 120)
    monkeypatch.setenv("VMS_TRAY_PROFILE", str(deep))
    path = control.socket_path()
    assert path == paths.runtime_dir() / "control.sock"
    assert path == control.socket_path()  # deterministic: CLI and daemon agree
    server = control.ControlServer(lambda req: "deep")
    server.start()
    try:
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
        assert control.request("ping") == "deep"
    finally:
        server.close()
    assert not path.exists()


def test_handler_over_the_socket_with_a_real_daemon() -> None:
    sim = Sim()
    sim.daemon.start(thread=True)
    server = control.ControlServer(ControlHandler(sim.daemon))
    server.start()
    try:
        status = control.request("status")
        assert status["state"] == "signed_in" and status["server"] == "office"
        assert set(status) >= {
            "state",
            "server",
            "login",
            "sessions_in_use",
            "max_sessions",
            "expires_in",
            "last_error",
        }
        listing = control.request("sessions")
        assert listing["limit"] == {"scope": "account", "max": 3, "active": 1}
        assert listing["sessions"][0]["current"] is True
        with pytest.raises(control.RemoteError, match="no captcha"):
            control.request("captcha")
        with pytest.raises(ControlError, match="unknown control command"):
            control.request("frobnicate")
        control.request("quit")
        assert sim.daemon.wait_stopped(5)
        assert sim.office.sessions == {}
    finally:
        server.close()


def test_settings_file_and_environment(tmp_path: Path) -> None:
    f = tmp_path / "settings.toml"
    f.write_text("[daemon]\npoll_interval = 30\nwarn_margin = 2\nbogus = 1\n")
    s = settings_mod.load(f, env={"VMS_TRAY_POLL_INTERVAL": "1"})
    assert s.poll_interval == 1 and s.warn_margin == 2
    assert s.timing().warn_margin == 2
    assert settings_mod.load(tmp_path / "missing.toml", env={}).poll_interval == 60
    f.write_text("[daemon]\npoll_interval = -5\n")
    with pytest.raises(ConfigError, match="poll_interval must be between"):
        settings_mod.load(f, env={})
    f.write_text("[daemon\n")
    with pytest.raises(ConfigError):
        settings_mod.load(f, env={})


@pytest.mark.parametrize(
    ("n", "m", "text"),
    [
        (2, 3, "2 of 3 sessions in use — 1 seat left"),
        (1, 3, "1 of 3 sessions in use — 2 seats left"),
        (3, 3, "3 of 3 sessions in use — no seats left"),
        (4, None, "4 sessions in use (no limit)"),
    ],
)
def test_seat_wording(n: int, m: int | None, text: str) -> None:
    assert seats(n, m) == text


def test_jump_detector() -> None:
    clock = FakeClock()
    d = JumpDetector(clock, tolerance=5)
    clock.tick(10)
    assert d.check() is None
    clock.suspend(3600)
    assert d.check() == pytest.approx(3600)
    clock.set_wall(-3600)
    assert d.check() == pytest.approx(-3600)
    clock.tick(10)
    assert d.check() is None


def test_post_never_blocks_while_the_worker_is_busy() -> None:
    sim = Sim()
    sim.daemon.start(thread=True)
    gate = threading.Event()
    busy = threading.Thread(target=lambda: sim.daemon.call(lambda: gate.wait(5)), daemon=True)
    busy.start()
    started = time.monotonic()
    for _ in range(1000):
        sim.daemon.post(C.CheckNow())
    assert time.monotonic() - started < 1.0
    gate.set()
    busy.join(5)
    sim.daemon.stop()
    assert sim.daemon.wait_stopped(5)
    assert sim.office.sessions == {}


def test_quit_frees_the_seat_within_two_seconds_even_if_a_request_hangs() -> None:
    from tests.unit.daemon.fakes import FakeServer
    from vms_tray.session.records import Tokens

    hang, entered = threading.Event(), threading.Event()

    class HangingServer(FakeServer):
        def list_sessions(self, bearer: str) -> Any:
            entered.set()
            hang.wait(30)  # a server that accepted the request and never answers
            return super().list_sessions(bearer)

        def sign_out(self, tokens: Tokens) -> None:
            assert self.timeout <= 1.8  # the quit path uses a bounded client
            super().sign_out(tokens)

    sim = Sim(server_class=HangingServer)
    sim.daemon.start(thread=True)
    wait_until(lambda: sim.state() == "signed_in", 5, "signed in")
    sim.daemon.post(C.CheckNow())
    assert entered.wait(5)  # the worker now sits in the hanging poll
    started = time.monotonic()
    sim.daemon.stop(timeout=2.0)
    assert time.monotonic() - started < 2.0
    assert sim.office.sessions == {}
    hang.set()


def test_sessions_of_a_kind_that_cannot_list_them() -> None:
    from tests.unit.daemon.fakes import ReauthServer, World

    worlds = {"office": World(FakeClock()), "annex": World(FakeClock())}
    sim = Sim(worlds=worlds, server_class=ReauthServer)
    sim.start()
    assert sim.state() == "signed_in"
    assert sim.daemon.snapshot().can_list_sessions is False
    handler = ControlHandler(sim.daemon)
    with pytest.raises(Unsupported) as info:
        handler({"cmd": "sessions"})
    assert str(info.value) == "this server does not report sessions"


def test_signed_out_text_follows_what_the_server_can_free() -> None:
    from vms_tray.cli.daemon import signed_out_text

    assert signed_out_text({"server": "HQ", "sign_out_frees_seat": True}) == (
        "Signed out of HQ; its session seat is free."
    )
    zm = signed_out_text({"server": "zm", "sign_out_frees_seat": False})
    assert "Nothing is freed on the server" in zm and "valid until it expires" in zm
    assert "seat is free" not in zm


def test_the_snapshot_says_whether_sign_out_frees_a_seat() -> None:
    from vms_tray.connections.model import Connection
    from vms_tray.daemon.link import frees_seat

    assert frees_seat(Connection("zm", "https://zm.example", "u", kind="zoneminder")) is False
    assert frees_seat(Connection("hq", "https://hq.example", "u")) is True
    assert frees_seat(None) is True


def _hammer(stop: threading.Event, answered: threading.Semaphore) -> None:
    while not stop.is_set():
        try:
            control.request("ping", timeout=2)
            answered.release()
        except (ControlError, OSError):
            pass  # closed under our feet: expected


def test_closing_while_requests_keep_arriving_never_fails() -> None:
    """Closing races with the accept loop starting request threads (a quit arrives while the
    tray polls status): close() must not trip over a thread accepted but not yet started."""
    for _ in range(30):
        server = control.ControlServer(lambda req: "pong")
        server.start()
        answered, stop = threading.Semaphore(0), threading.Event()
        clients = [threading.Thread(target=_hammer, args=(stop, answered)) for _ in range(4)]
        for c in clients:
            c.start()
        for _ in range(5):
            assert answered.acquire(timeout=10)
        try:
            server.close(drain=2)  # raised RuntimeError now and then before the fix
        finally:
            stop.set()
            for c in clients:
                c.join(10)


def test_a_request_nested_too_deep_is_refused_like_any_malformed_one() -> None:
    """60 KB of brackets: a one-line refusal, not an unexpected RecursionError."""
    server = control.ControlServer(lambda req: "never")
    server.start()
    try:
        channel = control.default_transport().connect(5)
        try:
            channel.send(b'{"cmd": "status", "x": ' + b"[" * 30000 + b"]" * 30000 + b"}")
            reply = json.loads(channel.receive())
        finally:
            channel.close()
        assert reply == {"ok": False, "error": "malformed control request", "code": "ControlError"}
        assert control.request("echo") == "never"  # and the daemon answers the next one
    finally:
        server.close()
