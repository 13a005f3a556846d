"""The XDG autostart entry (~/.config/autostart/vms-tray.desktop)."""

from __future__ import annotations

from pathlib import Path

from tests.unit.autostart.fakes import (
    SystemFactory,
    backend_for,
)
from vms_tray.autostart.xdg import read_desktop_entry


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
