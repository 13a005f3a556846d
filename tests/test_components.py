"""The real components start and answer (a smoke test of the test harness itself)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import components


@pytest.mark.keyring
def test_secret_service_stores_and_reads(secret_service_env: dict[str, str]) -> None:
    code = (
        "import keyring,sys;"
        "keyring.set_password('vms-tray-selftest','u','s3cret');"
        "print(type(keyring.get_keyring()).__module__,"
        " keyring.get_password('vms-tray-selftest','u'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=secret_service_env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert out.stdout.split() == ["keyring.backends.SecretService", "s3cret"]


@pytest.mark.desktop
def test_desktop_has_tray_and_notifications(desktop: components.Desktop) -> None:
    subprocess.run(["notify-send", "hello", "world"], env=desktop.env, check=True, timeout=10)
    subprocess.run(["dunstctl", "close-all"], env=desktop.env, check=True, timeout=10)
    hist = subprocess.run(
        ["dunstctl", "history"],
        env=desktop.env,
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    assert "hello" in hist.stdout
    assert desktop.xdotool("search", "--classname", "trayer").strip()
