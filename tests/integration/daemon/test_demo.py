"""``vms-tray demo`` as a new user runs it: without a display it runs headless and says how."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.components import wait_until
from vms_tray import control
from vms_tray.errors import ControlError

pytestmark = pytest.mark.integration


def test_demo_headless(isolated_profile: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**os.environ, "VMS_TRAY_POLL_INTERVAL": "0.5"}
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
            return bool(control.request("status")["state"] == "signed_in")
        except ControlError:
            return False

    try:
        wait_until(up, 30, "the demo daemon to sign in")
        text = err.read_text()
        assert f"VMS_TRAY_PROFILE={demo_profile} vms-tray status" in text
        assert control.request("status")["server"] == "vms-tray-demo"
        control.request("switch", name="vms-tray-demo-full", timeout=60)
        assert control.request("status")["state"] == "limit_reached"
        listing = control.request("sessions")
        assert [s["device"] for s in listing["sessions"]] == ["OPS-PC-12"]
        control.request("quit")
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    # The user's own profile was not touched: no servers file outside the demo directory.
    assert not (isolated_profile / "config" / "servers.toml").exists()
    assert (demo_profile / "config" / "servers.toml").exists()
