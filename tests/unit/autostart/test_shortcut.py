"""Application launchers on each platform: what install writes, that it starts our command, and
that remove deletes exactly that."""

from __future__ import annotations

import base64
import io
import plistlib
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from PIL import Image

from tests.unit.autostart.fakes import SystemFactory, tree
from vms_tray.autostart import AutostartError, templates
from vms_tray.autostart.base import CommandResult
from vms_tray.autostart.launch import parse_desktop_exec, windows_cmdline
from vms_tray.autostart.shortcut import (
    SHELL_FOLDERS_KEY,
    MacAppBundle,
    WindowsShortcut,
    XdgLauncher,
    expand_windows_vars,
    launcher_for,
)
from vms_tray.autostart.xdg import read_desktop_entry


def test_launcher_per_platform(make_system: SystemFactory) -> None:
    assert isinstance(launcher_for(make_system("linux")), XdgLauncher)
    assert isinstance(launcher_for(make_system("win32")), WindowsShortcut)
    assert isinstance(launcher_for(make_system("darwin")), MacAppBundle)


def test_xdg_launcher_install_and_remove(make_system: SystemFactory) -> None:
    system = make_system("linux")
    desktop = make_system.tmp / "home/Schreibtisch"
    make_system.runner.answer(["xdg-user-dir", "DESKTOP"], 0, f"{desktop}\n")
    launcher = XdgLauncher(system)
    before = tree(make_system.home)

    written = launcher.install(desktop=True)
    entry = make_system.home / ".local/share/applications/vms-tray.desktop"
    icon = make_system.home / ".local/share/icons/hicolor/256x256/apps/vms-tray.png"
    copy = desktop / "vms-tray.desktop"
    assert written == [entry, icon, copy]
    assert icon.read_bytes() == templates.read_bytes("icons", "vms-tray.png")
    with Image.open(icon) as im:
        assert im.size == (256, 256)
    assert copy.read_text() == entry.read_text()
    assert copy.stat().st_mode & 0o111  # file managers launch only executable desktop files
    fields = read_desktop_entry(entry.read_text())
    assert fields["Icon"] == "vms-tray"
    assert parse_desktop_exec(fields["Exec"]) == list(system.command)

    # The Exec line really runs our interpreter with our arguments (paths with spaces, $, %).
    argv = parse_desktop_exec(fields["Exec"])
    subprocess.run(argv, check=True, timeout=10)
    ran = Path(system.command[0]).parent / "ran-with"
    assert ran.read_text().splitlines() == ["-m", "vms_tray", "run"]
    ran.unlink()

    assert launcher.remove(desktop=True) == [copy]  # --desktop: only the desktop copy
    assert entry.exists() and icon.exists()
    assert sorted(launcher.remove()) == sorted([entry, icon])
    assert tree(make_system.home) == before


def test_xdg_desktop_dir_falls_back_to_home_desktop(make_system: SystemFactory) -> None:
    system = make_system("linux")
    # xdg-user-dir prints $HOME itself when no desktop folder is configured.
    make_system.runner.answer(["xdg-user-dir", "DESKTOP"], 0, f"{make_system.home}\n")
    assert XdgLauncher(system).desktop_dir() == make_system.home / "Desktop"


def test_windows_shortcut_uses_powershell_through_the_runner(make_system: SystemFactory) -> None:
    make_system.registry.set_string(
        SHELL_FOLDERS_KEY, "Desktop", "%USERPROFILE%\\OneDrive\\Desktop"
    )
    system = make_system(
        "win32",
        env={
            "APPDATA": str(make_system.tmp / "Roaming"),
            "LOCALAPPDATA": str(make_system.tmp / "Local"),
            "USERPROFILE": str(make_system.tmp / "profile"),
        },
    )
    created: list[str] = []

    def powershell(_argv: Sequence[str], env: Mapping[str, str] | None) -> CommandResult:
        assert env is not None
        Path(env["VMS_TRAY_LNK"]).write_bytes(b"L\x00\x00\x00")  # what WScript.Shell would save
        created.append(env["VMS_TRAY_LNK"])
        return CommandResult(0)

    make_system.runner.on(["powershell.exe"], powershell)
    launcher = WindowsShortcut(system)
    written = launcher.install(desktop=True)

    start_menu = make_system.tmp / "Roaming/Microsoft/Windows/Start Menu/Programs/vms-tray.lnk"
    desktop_link = Path(str(make_system.tmp / "profile") + "\\OneDrive\\Desktop") / "vms-tray.lnk"
    icon = make_system.tmp / "Local/vms-tray/vms-tray.ico"
    assert written == [start_menu, icon, desktop_link]
    assert created == [str(start_menu), str(desktop_link)]
    assert icon.read_bytes() == templates.read_bytes("icons", "vms-tray.ico")

    argv = make_system.runner.calls[0]
    assert argv[:6] == [
        "powershell.exe",
        "-NoProfile",
        "-NonInteractive",
        "-ExecutionPolicy",
        "Bypass",
        "-EncodedCommand",
    ]
    script = base64.b64decode(argv[6]).decode("utf-16-le")
    assert script == templates.read("windows-shortcut.ps1")
    env = make_system.runner.envs[0]
    # Paths travel as environment variables, never inside the PowerShell code.
    assert env["VMS_TRAY_TARGET"] == system.gui_command[0]
    assert env["VMS_TRAY_ARGUMENTS"] == windows_cmdline(system.gui_command[1:])
    assert env["VMS_TRAY_ICON"] == f"{icon},0"
    assert system.gui_command[0] not in script

    assert sorted(launcher.remove()) == sorted([start_menu, icon, desktop_link])
    assert launcher.installed() == []


def test_windows_shortcut_failure_is_reported(make_system: SystemFactory) -> None:
    system = make_system(
        "win32",
        env={"APPDATA": str(make_system.tmp / "R"), "LOCALAPPDATA": str(make_system.tmp / "L")},
    )
    make_system.runner.answer(["powershell.exe"], 1)
    with pytest.raises(AutostartError, match="PowerShell could not create"):
        WindowsShortcut(system).install()


def test_expand_windows_vars() -> None:
    env = {"USERPROFILE": r"C:\Users\ann", "OneDrive": r"C:\Users\ann\OneDrive"}
    assert expand_windows_vars(r"%userprofile%\Desktop", env) == r"C:\Users\ann\Desktop"
    assert expand_windows_vars(r"%ONEDRIVE%\Bureau", env) == r"C:\Users\ann\OneDrive\Bureau"
    assert expand_windows_vars(r"%NOPE%\x", env) == r"%NOPE%\x"
    assert expand_windows_vars("100% sure", env) == "100% sure"


def test_mac_app_bundle(make_system: SystemFactory) -> None:
    system = make_system("darwin")
    launcher = MacAppBundle(system)
    before = tree(make_system.home)
    written = launcher.install(desktop=True)
    bundle = make_system.home / "Applications/vms-tray.app"
    assert written == [bundle, make_system.home / "Desktop/vms-tray.app"]

    info = plistlib.loads((bundle / "Contents/Info.plist").read_bytes())
    assert info["CFBundleExecutable"] == "vms-tray"
    assert info["CFBundlePackageType"] == "APPL"
    assert info["CFBundleIconFile"] == "vms-tray.icns"
    assert info["LSUIElement"] is True
    with Image.open(bundle / "Contents/Resources/vms-tray.icns") as icns:
        assert icns.format == "ICNS"

    exe = bundle / "Contents/MacOS/vms-tray"
    assert exe.stat().st_mode & 0o111
    # The bundle's executable really runs our interpreter, paths with spaces and $ intact.
    subprocess.run([str(exe)], check=True, timeout=10)
    ran = Path(system.command[0]).parent / "ran-with"
    assert ran.read_text().splitlines() == ["-m", "vms_tray", "run"]
    ran.unlink()

    launcher.install(desktop=True)  # idempotent, the desktop symlink is ours
    assert launcher.remove() == [make_system.home / "Desktop/vms-tray.app", bundle]
    assert tree(make_system.home) == before


def test_mac_desktop_item_of_the_user_is_left_alone(make_system: SystemFactory) -> None:
    launcher = MacAppBundle(make_system("darwin"))
    theirs = make_system.home / "Desktop/vms-tray.app"
    theirs.mkdir(parents=True)
    with pytest.raises(AutostartError, match="not ours"):
        launcher.install(desktop=True)
    launcher.remove()
    assert theirs.is_dir()


def test_icns_is_built_from_the_packaged_png() -> None:
    from vms_tray.autostart.shortcut import make_icns

    with Image.open(io.BytesIO(make_icns(templates.read_bytes("icons", "vms-tray.png")))) as im:
        assert im.format == "ICNS"
