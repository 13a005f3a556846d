"""The local control channel: one JSON request per connection over a private socket, errors
sent back as one line, a stale socket replaced, and a close that lets the answer in progress out."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from vms_tray import control, paths
from vms_tray.errors import ControlError, DaemonNotRunning, InvalidInput


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
