"""After ``vms-tray quit`` the service managers must not restart the tray.

There is no live systemd (or launchd) here, so the proof has two halves: the units restart only on
failure (checked in the rendered files, and by systemd-analyze in test_validate), and a real
``vms-tray run --headless`` exits with status 0 when ``vms-tray quit`` asks it to.
"""

from __future__ import annotations

import importlib.util
import os
import plistlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.components import wait_until
from tests.unit.autostart.fakes import fake_interpreter
from vms_tray.autostart import get_backend
from vms_tray.autostart.base import SubprocessRunner, System
from vms_tray.autostart.systemd import unit_settings

pytestmark = pytest.mark.integration


def fake_system(tmp_path: Path, platform: str) -> System:
    python = fake_interpreter(tmp_path / "venv/bin")
    command = (str(python), "-m", "vms_tray", "run")
    return System(platform, tmp_path, {}, SubprocessRunner(), command, command)


def test_units_restart_only_after_a_failure(tmp_path: Path) -> None:
    unit = unit_settings(
        get_backend("systemd", fake_system(tmp_path, "linux"), check=False).render()
    )
    service = unit["Service"]
    # on-failure: not after exit 0, nor after SIGTERM/SIGINT/SIGHUP/SIGPIPE (a logout).
    assert service["Restart"] == "on-failure"
    assert "SuccessExitStatus" not in service and "RestartForceExitStatus" not in service
    assert "StartLimitBurst" in unit["Unit"] and "StartLimitIntervalSec" in unit["Unit"]

    agent = plistlib.loads(
        get_backend("launchd", fake_system(tmp_path, "darwin"), check=False).render().encode()
    )
    assert agent["KeepAlive"] == {"SuccessfulExit": False}


def test_quit_makes_the_running_tray_exit_with_status_0(tmp_path: Path) -> None:
    if importlib.util.find_spec("vms_tray.cli.daemon") is None:
        pytest.fail(
            "vms_tray/cli/daemon.py does not exist yet: this test needs the daemon's "
            "'vms-tray run --headless' and 'vms-tray quit' (owned by the daemon helper)",
            pytrace=False,
        )
    home = tmp_path / "home"
    runtime = tmp_path / "runtime"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    env = {
        **os.environ,
        "VMS_TRAY_PROFILE": str(tmp_path / "profile"),
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(runtime),
        "PYSTRAY_BACKEND": "dummy",
    }
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS"):
        env.pop(var, None)
    log = (tmp_path / "run.log").open("wb")
    tray = subprocess.Popen(
        [sys.executable, "-m", "vms_tray", "run", "--headless"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:

        def cli(*argv: str) -> subprocess.CompletedProcess[bytes]:
            return subprocess.run(
                [sys.executable, "-m", "vms_tray", *argv],
                env=env,
                capture_output=True,
                timeout=30,
                check=False,
            )

        def answering() -> bool:
            if tray.poll() is not None:
                raise AssertionError(
                    f"'vms-tray run --headless' exited early with {tray.returncode}: "
                    + (tmp_path / "run.log").read_text(errors="replace")[-2000:]
                )
            return cli("status").returncode == 0

        wait_until(answering, 60, "the headless tray to answer 'vms-tray status'", step=0.3)
        done = cli("quit")
        # The answer to "quit" goes out before the daemon closes its control socket and exits.
        assert done.returncode == 0, done.stderr
        assert b"signed out and stopped" in done.stdout, done.stdout
        assert tray.wait(timeout=30) == 0, (tmp_path / "run.log").read_text(errors="replace")
    finally:
        if tray.poll() is None:
            tray.kill()
            tray.wait(timeout=10)
        log.close()
