"""enable -> status -> disable round trips in a temporary HOME, for every method, through the OS
seam (recording command runner, in-memory registry)."""

from __future__ import annotations

import os
import plistlib
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from tests.unit.autostart.fakes import RecordingRunner, SystemFactory, fake_interpreter, tree
from vms_tray.autostart import AutostartError, get_backend
from vms_tray.autostart.base import AutostartBackend, CommandResult
from vms_tray.autostart.launch import windows_cmdline
from vms_tray.autostart.launchd import LABEL
from vms_tray.autostart.registry import APPROVED_KEY, RUN_KEY
from vms_tray.autostart.systemd import unit_settings
from vms_tray.autostart.xdg import read_desktop_entry
from vms_tray.testing.autostart import MemoryRegistry

PLATFORM = {"xdg": "linux", "systemd": "linux", "launchd": "darwin", "registry": "win32"}


def fake_systemctl(runner: RecordingRunner, config_home: Path) -> None:
    """Does what offline ``systemctl --user enable/disable`` does to the unit's wants link."""
    link = config_home / "systemd/user/graphical-session.target.wants/vms-tray.service"

    def handle(argv: Sequence[str], _env: Mapping[str, str] | None) -> CommandResult:
        if argv[2] == "enable":
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(config_home / "systemd/user/vms-tray.service")
        elif argv[2] == "disable":
            link.unlink(missing_ok=True)
        return CommandResult(0)

    runner.on(["systemctl", "--user", "enable"], handle)
    runner.on(["systemctl", "--user", "disable"], handle)
    # No user manager in CI: daemon-reload fails, and that must not matter.
    runner.answer(["systemctl", "--user", "daemon-reload"], 1)


def backend_for(method: str, make_system: SystemFactory, **kw: object) -> AutostartBackend:
    system = make_system(PLATFORM[method], **kw)  # type: ignore[arg-type]
    if method == "systemd":
        fake_systemctl(make_system.runner, system.config_home)
    return get_backend(method, system, check=False)


def snapshot(make_system: SystemFactory) -> tuple[dict[str, str], dict[tuple[str, str], object]]:
    return tree(make_system.home), dict(make_system.registry.values)


@pytest.mark.parametrize("method", ["xdg", "systemd", "launchd", "registry"])
def test_round_trip(method: str, make_system: SystemFactory) -> None:
    backend = backend_for(method, make_system)
    before = snapshot(make_system)
    assert backend.status().installed is False
    assert backend.is_enabled() is False

    status = backend.enable()
    assert status.installed and status.up_to_date and not status.stale
    assert status.executable_exists is True
    assert status.command == backend.system.command
    assert backend.is_enabled() is True
    after_first = snapshot(make_system)

    # Idempotent: same files, same contents.
    contents = {
        p: (make_system.home / p).read_bytes() for p, k in after_first[0].items() if k == "file"
    }
    backend.enable()
    assert snapshot(make_system) == after_first
    assert contents == {p: (make_system.home / p).read_bytes() for p in contents}

    assert backend.disable() is True
    assert snapshot(make_system) == before  # exactly what enable added, nothing else
    assert backend.status().installed is False
    assert backend.disable() is False


@pytest.mark.parametrize("method", ["xdg", "systemd", "launchd", "registry"])
def test_stale_entry_is_reported_and_fixed_by_enable(
    method: str, make_system: SystemFactory
) -> None:
    old_python = fake_interpreter(make_system.tmp / "old venv" / "bin")
    backend_for(method, make_system, interpreter=old_python).enable()
    shutil.rmtree(make_system.tmp / "old venv")  # the venv was moved away

    make_system.runner.handlers.clear()
    current = backend_for(method, make_system)
    status = current.status()
    assert status.installed and status.stale
    assert status.executable == str(old_python)
    assert status.up_to_date is False
    assert status.as_dict()["stale"] is True

    repaired = current.enable()
    assert not repaired.stale and repaired.up_to_date
    assert repaired.command == current.system.command


def test_xdg_file_content(make_system: SystemFactory) -> None:
    backend = backend_for("xdg", make_system)
    backend.enable()
    path = make_system.home / ".config/autostart/vms-tray.desktop"
    assert backend.location == str(path)
    entry = read_desktop_entry(path.read_text())
    assert entry["Type"] == "Application"
    assert entry["TryExec"] == backend.system.command[0]
    assert entry["Icon"] == "vms-tray"
    assert make_system.runner.calls == []  # plain files, no OS tool involved


def test_xdg_honours_xdg_config_home(make_system: SystemFactory) -> None:
    cfg = make_system.tmp / "cfg"
    backend = backend_for("xdg", make_system, env={"XDG_CONFIG_HOME": str(cfg)})
    backend.enable()
    assert (cfg / "autostart/vms-tray.desktop").is_file()
    # A relative value is invalid per the basedir spec and ignored.
    assert backend_for("xdg", make_system, env={"XDG_CONFIG_HOME": "rel"}).location.startswith(
        str(make_system.home / ".config")
    )


def test_xdg_switched_off_by_the_desktop(make_system: SystemFactory) -> None:
    backend = backend_for("xdg", make_system)
    backend.enable()
    path = Path(backend.location)
    path.write_text(path.read_text() + "Hidden=true\n")
    status = backend.status()
    assert status.installed and status.active is False and not backend.is_enabled()
    backend.enable()
    assert backend.is_enabled()


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


def test_registry_value_and_task_manager_flag(make_system: SystemFactory) -> None:
    backend = backend_for("registry", make_system)
    reg: MemoryRegistry = make_system.registry
    backend.enable()
    value = reg.get(RUN_KEY, "vms-tray")
    assert value == windows_cmdline(backend.system.gui_command)
    assert backend.location == rf"HKEY_CURRENT_USER\{RUN_KEY}\vms-tray"

    # Task Manager's "Disable" writes 03 00.. under StartupApproved\Run.
    reg.set_binary(APPROVED_KEY, "vms-tray", b"\x03" + b"\x00" * 11)
    assert backend.status().active is False
    assert not backend.is_enabled()
    backend.enable()
    assert reg.get(APPROVED_KEY, "vms-tray") is None
    assert backend.is_enabled()

    reg.set_string(RUN_KEY, "Other", "other.exe")
    backend.disable()
    assert reg.values == {(RUN_KEY.lower(), "other"): "other.exe"}


def test_registry_backend_refuses_without_a_registry(make_system: SystemFactory) -> None:
    backend = get_backend("registry", make_system("linux"), check=False)
    assert not backend.viable
    with pytest.raises(AutostartError, match="only on Windows"):
        backend.enable()
    assert "vms-tray" in backend.render()  # rendering a .reg file works anywhere


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
