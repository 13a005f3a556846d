"""``vms-tray demo`` as a new user runs it: without a display it runs headless and says how."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.components import wait_until
from tests.support.proxy import free_port
from vms_tray import control
from vms_tray.errors import ControlError

pytestmark = pytest.mark.integration


def test_demo_headless(isolated_profile: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**os.environ, "VMS_TRAY_POLL_INTERVAL": "0.5"}
    # A desktop whose proxy cannot reach this computer's loopback: the demo goes direct.
    env["https_proxy"] = f"http://127.0.0.1:{free_port()}"
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    err = isolated_profile.parent / "demo.stderr"
    isolated_profile.mkdir(parents=True, exist_ok=True)
    with err.open("wb") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vms_tray", "demo"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=f,
        )
    demo_profile = isolated_profile / "data" / "demo" / "profile"
    monkeypatch.setenv("VMS_TRAY_PROFILE", str(demo_profile))

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(err.read_text())
        try:
            return bool(control.request("status")["state"] == "limit_reached")
        except ControlError:
            return False

    try:
        # The demo account's 2 seats are taken: the limit choice comes first.
        wait_until(up, 30, "the demo daemon to meet the session limit")
        text = err.read_text()
        # The printed command works as printed, from another "terminal" (no venv on PATH).
        line = next(ln.strip() for ln in text.splitlines() if ln.strip().endswith(" status"))
        assign, *command = shlex.split(line)
        assert assign == f"VMS_TRAY_PROFILE={demo_profile}"
        printed = subprocess.run(
            command,
            env={**os.environ, "VMS_TRAY_PROFILE": assign.split("=", 1)[1]},
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        assert "state: limit_reached" in printed.stdout
        assert control.request("status")["server"] == "vms-tray-demo"
        listing = control.request("sessions")
        devices = {s["device"]: s["id"] for s in listing["sessions"]}
        assert sorted(devices) == ["OPS-PC-12", "OPS-PC-13"]
        control.request("end-session", id=devices["OPS-PC-12"], timeout=60)
        status = control.request("status")
        assert status["state"] == "signed_in"
        assert (status["sessions_in_use"], status["max_sessions"]) == (2, 2)
        control.request("quit")
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    # The user's own profile was not touched: no servers file outside the demo directory.
    assert not (isolated_profile / "config" / "servers.toml").exists()
    assert (demo_profile / "config" / "servers.toml").exists()
