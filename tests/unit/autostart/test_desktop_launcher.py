"""The launcher on the desktop: where it goes (or that there is nowhere), that its Exec and Icon
are the installed menu entry's, that it is executable and marked trusted, and remove."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.unit.autostart.fakes import SystemFactory, fake_interpreter
from vms_tray.autostart import AutostartError
from vms_tray.autostart.base import System
from vms_tray.autostart.desktop_launcher import DesktopLauncher
from vms_tray.autostart.launch import parse_desktop_exec
from vms_tray.autostart.xdg import read_desktop_entry


def _system(make_system: SystemFactory, **env: str) -> System:
    # No system menu entry of the machine running the tests may leak in.
    return make_system("linux", env={"XDG_DATA_DIRS": str(make_system.tmp / "none"), **env})


def test_the_desktop_folder_is_xdg_user_dirs_then_desktop(make_system: SystemFactory) -> None:
    system = _system(make_system)
    launcher = DesktopLauncher(system)
    assert launcher.folder() is None  # no ~/Desktop and nothing configured: nowhere to go
    (make_system.home / "Desktop").mkdir()
    assert launcher.folder() == make_system.home / "Desktop"
    local = make_system.home / "Рабочий стол"
    local.mkdir()
    make_system.runner.answer(["xdg-user-dir", "DESKTOP"], 0, f"{local}\n")
    assert launcher.folder() == local
    assert launcher.path == local / "vms-tray.desktop"


def test_a_configured_but_missing_folder_is_made(make_system: SystemFactory) -> None:
    system = _system(make_system)
    folder = make_system.home / "Schreibtisch"
    make_system.runner.answer(["xdg-user-dir", "DESKTOP"], 0, f"{folder}\n")
    assert DesktopLauncher(system).folder() is None
    config = system.config_home / "user-dirs.dirs"
    config.parent.mkdir(parents=True)
    config.write_text('XDG_DESKTOP_DIR="$HOME/Schreibtisch"\n')
    assert DesktopLauncher(system).folder() == folder
    DesktopLauncher(system).add()
    assert (folder / "vms-tray.desktop").is_file()


def test_desktop_turned_off_or_a_file_in_the_way(make_system: SystemFactory) -> None:
    system = _system(make_system)
    make_system.runner.answer(["xdg-user-dir", "DESKTOP"], 0, f"{make_system.home}\n")
    assert DesktopLauncher(system).folder() is None  # XDG_DESKTOP_DIR="$HOME/"
    make_system.runner.handlers.clear()
    (make_system.home / "Desktop").write_text("not a folder")
    assert DesktopLauncher(system).folder() is None
    with pytest.raises(AutostartError, match="no desktop folder"):
        DesktopLauncher(system).add()


def test_without_a_menu_entry_add_installs_it_and_copies_it(make_system: SystemFactory) -> None:
    system = _system(make_system)
    (make_system.home / "Desktop").mkdir()
    written = DesktopLauncher(system).add()
    menu = system.data_home / "applications/vms-tray.desktop"
    icon = system.data_home / "icons/hicolor/256x256/apps/vms-tray.png"
    copy = make_system.home / "Desktop/vms-tray.desktop"
    assert written == [menu, icon, copy]
    assert copy.read_text() == menu.read_text()
    entry = read_desktop_entry(copy.read_text())
    assert parse_desktop_exec(entry["Exec"]) == list(system.command)
    assert entry["Icon"] == "vms-tray"
    assert copy.stat().st_mode & 0o777 == 0o755
    assert os.access(copy, os.X_OK)


def test_the_system_menu_entry_gives_exec_and_only_the_copy_is_written(
    make_system: SystemFactory, tmp_path: Path
) -> None:
    data = tmp_path / "usr/share"
    bindir = tmp_path / "usr/bin"
    fake_interpreter(bindir, "vms-tray")
    (data / "applications").mkdir(parents=True)
    # What scripts/build-deb installs: the command on PATH.
    (data / "applications/vms-tray.desktop").write_text(
        "[Desktop Entry]\nType=Application\nName=vms-tray\nExec=vms-tray run\n"
        "TryExec=vms-tray\nIcon=vms-tray\n"
    )
    system = make_system(
        "linux", env={"XDG_DATA_DIRS": f"{data}:/nowhere", "PATH": f"{bindir}:/usr/bin:/bin"}
    )
    (make_system.home / "Desktop").mkdir()
    launcher = DesktopLauncher(system)
    found = launcher.menu_entry()
    assert found is not None and found.command == ("vms-tray", "run")
    copy = make_system.home / "Desktop/vms-tray.desktop"
    assert launcher.add() == [copy]
    assert not (system.data_home / "applications").exists()  # the menu's own entry is enough
    entry = read_desktop_entry(copy.read_text())
    assert (entry["Exec"], entry["TryExec"], entry["Icon"]) == (
        "vms-tray run",
        "vms-tray",
        "vms-tray",
    )


def test_a_stale_user_entry_is_passed_over(make_system: SystemFactory, tmp_path: Path) -> None:
    system = _system(make_system)
    user = system.data_home / "applications/vms-tray.desktop"
    user.parent.mkdir(parents=True)
    user.write_text("[Desktop Entry]\nExec=/gone/venv/bin/python -m vms_tray run\n")
    assert DesktopLauncher(system).menu_entry() is None


def test_trusted_with_gio_when_there_is_gio(make_system: SystemFactory, tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    fake_interpreter(bindir, "gio")
    system = _system(make_system, PATH=str(bindir))
    (make_system.home / "Desktop").mkdir()
    DesktopLauncher(system).add()
    copy = make_system.home / "Desktop/vms-tray.desktop"
    assert ["gio", "set", str(copy), "metadata::trusted", "true"] in make_system.runner.calls


def test_no_gio_no_call_and_add_is_idempotent(make_system: SystemFactory, tmp_path: Path) -> None:
    system = _system(make_system, PATH=str(tmp_path / "empty"))
    (make_system.home / "Desktop").mkdir()
    launcher = DesktopLauncher(system)
    launcher.add()
    first = (make_system.home / "Desktop/vms-tray.desktop").read_text()
    launcher.add()
    assert (make_system.home / "Desktop/vms-tray.desktop").read_text() == first
    assert not [c for c in make_system.runner.calls if c[0] == "gio"]
    assert launcher.present()


def test_remove_takes_only_the_desktop_copy(make_system: SystemFactory) -> None:
    system = _system(make_system)
    (make_system.home / "Desktop").mkdir()
    launcher = DesktopLauncher(system)
    assert launcher.remove() == []
    launcher.add()
    copy = make_system.home / "Desktop/vms-tray.desktop"
    assert launcher.remove() == [copy]
    assert not launcher.present()
    assert (system.data_home / "applications/vms-tray.desktop").is_file()


def test_not_on_windows_or_macos(make_system: SystemFactory) -> None:
    with pytest.raises(AutostartError, match="no desktop launcher"):
        DesktopLauncher(make_system("win32"))
