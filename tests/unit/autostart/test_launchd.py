"""The launchd agent: its plist, the launchctl calls, and the user's override."""

from __future__ import annotations

import plistlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.unit.autostart.fakes import (
    SystemFactory,
    backend_for,
)
from vms_tray.autostart.base import CommandResult
from vms_tray.autostart.launchd import LABEL


def test_launchd_plist_and_commands(make_system: SystemFactory) -> None:
    backend = backend_for("launchd", make_system)
    runner = make_system.runner
    backend.enable()
    path = make_system.home / f"Library/LaunchAgents/{LABEL}.plist"
    assert backend.location == str(path)
    data = plistlib.loads(path.read_bytes())
    assert data["Label"] == LABEL
    assert data["ProgramArguments"] == list(backend.system.command)
    assert data["RunAtLoad"] is True
    assert data["LimitLoadToSessionType"] == "Aqua"
    assert data["KeepAlive"] == {"SuccessfulExit": False}  # restart only after a failure
    assert data["ThrottleInterval"] >= 10
    # Round trip: plistlib writes back the same dictionary.
    assert plistlib.loads(plistlib.dumps(data)) == data
    assert runner.calls[0] == ["launchctl", "enable", f"gui/501/{LABEL}"]
    assert ["launchctl", "print", f"gui/501/{LABEL}"] in runner.calls
    # Never bootstrap (would start a second tray) nor bootout (would kill the running one).
    backend.disable()
    assert not any(c[1] in {"bootstrap", "bootout", "load", "unload"} for c in runner.calls)


def test_launchd_user_override_is_reported_and_cleared(make_system: SystemFactory) -> None:
    backend = backend_for("launchd", make_system)
    runner = make_system.runner
    disabled = {"on": True}

    def print_disabled(_argv: Sequence[str], _env: Mapping[str, str] | None) -> CommandResult:
        state = "disabled" if disabled["on"] else "enabled"
        return CommandResult(0, f'disabled services = {{\n\t"{LABEL}" => {state}\n}}\n')

    def enable(_argv: Sequence[str], _env: Mapping[str, str] | None) -> CommandResult:
        disabled["on"] = False
        return CommandResult(0)

    runner.on(["launchctl", "print-disabled"], print_disabled)
    runner.on(["launchctl", "enable"], enable)
    Path(backend.location).parent.mkdir(parents=True)
    Path(backend.location).write_text(backend.render())
    assert backend.status().active is False and not backend.is_enabled()
    assert backend.enable().active is True
