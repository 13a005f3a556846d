"""The systemd user unit: its settings, the systemctl calls, and failures of systemctl."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from tests.unit.autostart.fakes import (
    SystemFactory,
    backend_for,
    snapshot,
)
from vms_tray.autostart import AutostartError, get_backend
from vms_tray.autostart.base import CommandResult
from vms_tray.autostart.systemd import unit_settings


def test_systemd_needs_systemctl(make_system: SystemFactory) -> None:
    backend = get_backend(
        "systemd", make_system("linux", env={"PATH": "/nonexistent"}), check=False
    )
    assert not backend.viable
    assert "systemctl" in backend.why_not_viable


def test_systemd_commands_and_unit(make_system: SystemFactory) -> None:
    backend = backend_for("systemd", make_system)
    runner = make_system.runner
    backend.enable()
    assert runner.calls == [
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "vms-tray.service"],
    ]
    unit = unit_settings(Path(backend.location).read_text())
    assert unit["Unit"]["PartOf"] == "graphical-session.target"
    assert unit["Unit"]["After"] == "graphical-session.target"
    assert unit["Install"]["WantedBy"] == "graphical-session.target"
    assert unit["Service"]["Restart"] == "on-failure"  # a clean quit (exit 0) is not restarted
    assert int(unit["Service"]["RestartSec"]) >= 5
    assert int(unit["Unit"]["StartLimitBurst"]) <= 10
    assert int(unit["Unit"]["StartLimitIntervalSec"]) >= 60

    runner.calls.clear()
    backend.enable()
    assert runner.calls == []  # nothing changed, nothing to tell systemd

    backend.disable()
    assert runner.calls == [
        ["systemctl", "--user", "disable", "vms-tray.service"],
        ["systemctl", "--user", "daemon-reload"],
    ]


def test_systemd_enable_failure_is_one_clear_line(make_system: SystemFactory) -> None:
    system = make_system("linux")
    make_system.runner.on(
        ["systemctl", "--user", "enable"],
        lambda _a, _e: CommandResult(1, "", "Failed to enable unit: Access denied\n"),
    )
    with pytest.raises(AutostartError, match="Access denied") as err:
        get_backend("systemd", system, check=False).enable()
    assert "\n" not in str(err.value)


def test_systemd_unit_enabled_elsewhere_is_reported(make_system: SystemFactory) -> None:
    backend = backend_for("systemd", make_system)
    backend.enable()
    os.unlink(
        backend.system.config_home / "systemd/user/graphical-session.target.wants/vms-tray.service"
    )
    status = backend.status()
    assert status.installed and status.active is False
    assert any("not enabled" in n for n in status.notes)
    assert not backend.is_enabled()


def test_systemd_disable_without_systemctl_removes_our_files(make_system: SystemFactory) -> None:
    backend = backend_for("systemd", make_system)
    before = snapshot(make_system)
    backend.enable()

    def missing(_argv: Sequence[str], _env: Mapping[str, str] | None) -> CommandResult:
        raise FileNotFoundError(2, "No such file or directory", "systemctl")

    make_system.runner.handlers.clear()
    make_system.runner.on(["systemctl"], missing)
    assert backend.disable() is True
    assert snapshot(make_system) == before
