"""Application launchers: ``vms-tray shortcut install|remove [--desktop]``.

The launcher runs ``vms-tray run``, which starts the tray or, when one is running, asks it to come
forward. One launcher kind per platform:

- Linux/BSD: ``$XDG_DATA_HOME/applications/vms-tray.desktop`` and the icon in the user's hicolor
  theme; ``--desktop`` adds an executable copy in ``xdg-user-dir DESKTOP`` (``~/Desktop``).
- Windows: ``vms-tray.lnk`` in the Start menu (``--desktop``: on the desktop). A .lnk is a COM
  object, so PowerShell's ``WScript.Shell`` writes it, through the command runner seam; removal is
  a plain file deletion.
- macOS: a minimal bundle ``~/Applications/vms-tray.app`` whose executable is a shell script that
  runs this installation's interpreter (``--desktop``: a symlink to it on the desktop).

``remove`` deletes exactly the files ``install`` wrote (``--desktop``: only the desktop copy).
"""

from __future__ import annotations

import base64
import io
import os
import shlex
import shutil
from abc import ABC, abstractmethod
from pathlib import Path

from vms_tray import __version__
from vms_tray.autostart import templates
from vms_tray.autostart.base import (
    APP_ID,
    AutostartError,
    System,
    remove_file,
    write_if_changed,
)
from vms_tray.autostart.hkcu import Registry
from vms_tray.autostart.launch import windows_cmdline
from vms_tray.autostart.launchd import LABEL
from vms_tray.autostart.xdg import render_desktop_entry

ICON_PNG = ("icons", f"{APP_ID}.png")
ICON_ICO = ("icons", f"{APP_ID}.ico")


class Launcher(ABC):
    name: str

    def __init__(self, system: System) -> None:
        self.system = system

    @abstractmethod
    def paths(self, desktop: bool) -> list[Path]:
        """The files (or bundle folders) install writes; with ``desktop``, the desktop copy."""

    @abstractmethod
    def install(self, desktop: bool = False) -> list[Path]: ...

    def remove(self, desktop: bool = False) -> list[Path]:
        removed = []
        targets = self.paths(True) if desktop else self.paths(False) + self.paths(True)
        for path in targets:
            if path.is_symlink() or path.is_file():
                remove_file(path)
                removed.append(path)
            elif path.is_dir():
                try:
                    shutil.rmtree(path)
                except OSError as exc:
                    raise AutostartError(
                        f"cannot remove {path}: {exc.strerror or exc} (remove it by hand)"
                    ) from exc
                removed.append(path)
        return removed

    def installed(self) -> list[Path]:
        return [p for p in self.paths(False) + self.paths(True) if p.exists() or p.is_symlink()]


class XdgLauncher(Launcher):
    name = "xdg"

    @property
    def entry(self) -> Path:
        return self.system.data_home / "applications" / f"{APP_ID}.desktop"

    @property
    def icon(self) -> Path:
        return self.system.data_home / "icons/hicolor/256x256/apps" / f"{APP_ID}.png"

    def desktop_dir(self) -> Path:
        """``xdg-user-dir DESKTOP`` (localised, e.g. ~/Schreibtisch), else ``~/Desktop``."""
        home = self.system.home
        try:
            result = self.system.runner(["xdg-user-dir", "DESKTOP"])
        except OSError:
            return home / "Desktop"
        out = result.stdout.strip()
        # xdg-user-dir answers $HOME itself when no desktop folder is configured.
        if result.returncode == 0 and out and Path(out).is_absolute() and Path(out) != home:
            return Path(out)
        return home / "Desktop"

    def paths(self, desktop: bool) -> list[Path]:
        if desktop:
            return [self.desktop_dir() / f"{APP_ID}.desktop"]
        return [self.entry, self.icon]

    def render(self) -> str:
        return render_desktop_entry("launcher.desktop.in", self.system.command)

    def install(self, desktop: bool = False) -> list[Path]:
        write_if_changed(self.icon, templates.read_bytes(*ICON_PNG))
        text = self.render()
        write_if_changed(self.entry, text)
        written = [self.entry, self.icon]
        if desktop:
            copy = self.desktop_dir() / f"{APP_ID}.desktop"
            # File managers only launch desktop files that are executable (and, on GNOME, marked
            # trusted, which needs gvfs: best effort).
            write_if_changed(copy, text, mode=0o755)
            if shutil.which("gio", path=self.system.env.get("PATH")):
                self.system.runner(["gio", "set", str(copy), "metadata::trusted", "true"])
            written.append(copy)
        return written


# Where Explorer keeps the (possibly redirected, e.g. to OneDrive) desktop folder.
SHELL_FOLDERS_KEY = r"Software\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders"


def expand_windows_vars(value: str, env: dict[str, str]) -> str:
    """``%VAR%`` expansion as REG_EXPAND_SZ does it (case-insensitive names)."""
    lower = {k.lower(): v for k, v in env.items()}
    parts = value.split("%")
    out = [parts[0]]
    i = 1
    while i < len(parts):
        if i + 1 < len(parts) and parts[i].lower() in lower:
            out.append(lower[parts[i].lower()])
            out.append(parts[i + 1])
            i += 2
        else:
            out.append("%" + parts[i])
            i += 1
    return "".join(out)


class WindowsShortcut(Launcher):
    name = "start-menu"

    def _appdata(self, var: str, default: str) -> Path:
        value = self.system.env.get(var)
        return Path(value) if value else self.system.home / default

    @property
    def start_menu_link(self) -> Path:
        programs = self._appdata("APPDATA", "AppData/Roaming") / "Microsoft/Windows/Start Menu"
        return programs / "Programs" / f"{APP_ID}.lnk"

    @property
    def icon(self) -> Path:
        return self._appdata("LOCALAPPDATA", "AppData/Local") / APP_ID / f"{APP_ID}.ico"

    def desktop_dir(self) -> Path:
        registry: Registry | None = self.system.registry
        raw = registry.get(SHELL_FOLDERS_KEY, "Desktop") if registry is not None else None
        if isinstance(raw, str) and raw:
            return Path(expand_windows_vars(raw, dict(self.system.env)))
        return self.system.home / "Desktop"

    def paths(self, desktop: bool) -> list[Path]:
        if desktop:
            return [self.desktop_dir() / f"{APP_ID}.lnk"]
        return [self.start_menu_link, self.icon]

    def powershell_argv(self) -> list[str]:
        script = templates.read("windows-shortcut.ps1")
        encoded = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
        return [
            "powershell.exe",
            "-NoProfile",
            "-NonInteractive",
            "-ExecutionPolicy",
            "Bypass",
            "-EncodedCommand",
            encoded,
        ]

    def _create_link(self, link: Path) -> None:
        command = self.system.gui_command
        env = {
            "VMS_TRAY_LNK": str(link),
            "VMS_TRAY_TARGET": command[0],
            "VMS_TRAY_ARGUMENTS": windows_cmdline(command[1:]),
            "VMS_TRAY_WORKDIR": str(self.system.home),
            "VMS_TRAY_ICON": f"{self.icon},0",
        }
        link.parent.mkdir(parents=True, exist_ok=True)
        try:
            result = self.system.runner(self.powershell_argv(), env=env)
        except OSError as exc:
            raise AutostartError(
                f"cannot run PowerShell to create {link}: {exc.strerror or exc}"
            ) from exc
        if result.returncode != 0:
            detail = (result.stderr.strip().splitlines() or ["no message"])[-1]
            raise AutostartError(f"PowerShell could not create {link}: {detail}")

    def install(self, desktop: bool = False) -> list[Path]:
        write_if_changed(self.icon, templates.read_bytes(*ICON_ICO))
        written = [self.start_menu_link, self.icon]
        # A .lnk stores the target; rewriting it each time is what repairs a moved venv.
        self._create_link(self.start_menu_link)
        if desktop:
            link = self.desktop_dir() / f"{APP_ID}.lnk"
            self._create_link(link)
            written.append(link)
        return written


def make_icns(png: bytes) -> bytes:
    from PIL import Image  # here: macOS only, ~10 ms (measured) the other launchers never need

    with Image.open(io.BytesIO(png)) as image:
        out = io.BytesIO()
        image.convert("RGBA").save(out, format="ICNS")
    return out.getvalue()


class MacAppBundle(Launcher):
    name = "app-bundle"

    @property
    def bundle(self) -> Path:
        return self.system.home / "Applications" / f"{APP_ID}.app"

    def paths(self, desktop: bool) -> list[Path]:
        if desktop:
            return [self.system.home / "Desktop" / f"{APP_ID}.app"]
        return [self.bundle]

    def render_info_plist(self) -> str:
        return templates.render(
            "macos-app-Info.plist.in", bundle_id=f"{LABEL}.launcher", version=__version__
        )

    def render_executable(self) -> str:
        return templates.render("macos-app-launcher.sh.in", command=shlex.join(self.system.command))

    def install(self, desktop: bool = False) -> list[Path]:
        contents = self.bundle / "Contents"
        write_if_changed(contents / "Info.plist", self.render_info_plist())
        write_if_changed(contents / "MacOS" / APP_ID, self.render_executable(), mode=0o755)
        icns = make_icns(templates.read_bytes(*ICON_PNG))
        write_if_changed(contents / "Resources" / f"{APP_ID}.icns", icns)
        written = [self.bundle]
        if desktop:
            link = self.paths(True)[0]
            if link.is_symlink() and Path(os.readlink(link)) == self.bundle:
                pass
            elif link.exists() or link.is_symlink():
                raise AutostartError(f"{link} exists and is not ours (move it away and retry)")
            else:
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(self.bundle)
            written.append(link)
        return written

    def remove(self, desktop: bool = False) -> list[Path]:
        link = self.paths(True)[0]
        removed = []
        # Only our own symlink: a real folder of that name on the desktop is the user's.
        if link.is_symlink() and Path(os.readlink(link)) == self.bundle:
            remove_file(link)
            removed.append(link)
        if not desktop and self.bundle.is_dir():
            shutil.rmtree(self.bundle)
            removed.append(self.bundle)
        return removed


def launcher_for(system: System | None = None) -> Launcher:
    system = system or System.current()
    if system.platform == "win32":
        return WindowsShortcut(system)
    if system.platform == "darwin":
        return MacAppBundle(system)
    if system.is_linux_like:
        return XdgLauncher(system)
    raise AutostartError(f"no application launcher is known for {system.platform}")


__all__ = [
    "Launcher",
    "MacAppBundle",
    "WindowsShortcut",
    "XdgLauncher",
    "expand_windows_vars",
    "launcher_for",
]
