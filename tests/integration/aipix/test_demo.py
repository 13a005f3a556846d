"""``vms-tray demo --flavor aipix`` as a new user runs it (headless): the AIPIX simulator with
both seats taken and the captcha on; vms-tray meets the captcha first."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.components import wait_until
from vms_tray import control
from vms_tray.errors import ControlError
from vms_tray.kinds.aipix_profile import DEVICE_FILE

pytestmark = pytest.mark.integration


def test_demo_aipix_headless(isolated_profile: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**os.environ, "VMS_TRAY_POLL_INTERVAL": "0.5"}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    err = isolated_profile.parent / "demo.stderr"
    isolated_profile.mkdir(parents=True, exist_ok=True)
    with err.open("wb") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vms_tray", "demo", "--flavor", "aipix"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=f,
        )
    demo_profile = isolated_profile / "data" / "demo" / "profile"
    monkeypatch.setenv("VMS_TRAY_PROFILE", str(demo_profile))

    def state() -> str | None:
        if proc.poll() is not None:
            raise AssertionError(err.read_text())
        try:
            return str(control.request("status")["state"])
        except ControlError:
            return None

    try:
        wait_until(lambda: state() == "captcha_required", 30, "the demo to meet the captcha")
        text = err.read_text()
        assert "AIPIX VMS Client API" in text and "Refresh" in text
        first = control.request("captcha")
        assert base64.b64decode(first["png"]).startswith(b"\x89PNG")
        control.request("captcha-refresh")
        assert control.request("captcha")["id"] != first["id"]
        assert control.request("status")["server"] == "vms-tray-demo"
        assert (demo_profile / "data" / DEVICE_FILE).exists()
        control.request("quit")
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
