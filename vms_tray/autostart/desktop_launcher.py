"""The launcher on the user's desktop: ``vms-tray desktop-launcher add|remove|status`` and the
tray's first-start offer (:mod:`vms_tray.tray.desktop_offer`).

The file is the application-menu entry's twin: ``launcher.desktop.in`` rendered with the command
of the menu entry the desktop would use now, so its Exec and Icon are those of the installed menu
entry (the Debian package's ``vms-tray run`` from ``/usr/share/applications``, or a pip/pipx
install's own interpreter). When no menu entry is installed (a plain wheel), the menu entry and
its icon are installed first (:class:`~vms_tray.autostart.shortcut.XdgLauncher`): ``Icon=vms-tray``
finds nothing without that icon in the theme.

The folder is ``xdg-user-dir DESKTOP``, else ``~/Desktop``. A folder that does not exist is made
only when the user's ``user-dirs.dirs`` names it; otherwise there is no desktop to put anything
on (a bare window manager), and :meth:`DesktopLauncher.folder` says None. File managers launch a
desktop file only when it is executable and, on GNOME (Nautilus, the DING extension), marked
trusted with ``gio set FILE metadata::trusted true`` (gvfs' metadata: best effort).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from vms_tray.autostart.base import APP_ID, AutostartError, System, remove_file, write_if_changed
from vms_tray.autostart.shortcut import XdgLauncher
from vms_tray.autostart.xdg import desktop_entry_command, render_desktop_entry

FILE_NAME = f"{APP_ID}.desktop"
DEFAULT_DATA_DIRS = "/usr/local/share:/usr/share"  # the XDG Base Directory spec's default

__all__ = ["DesktopLauncher", "MenuEntry"]


@dataclass(frozen=True)
class MenuEntry:
    """An installed application-menu entry of ours and the command it runs."""

    path: Path
    command: tuple[str, ...]


class DesktopLauncher:
    def __init__(self, system: System) -> None:
        if not system.is_linux_like:
            raise AutostartError(f"no desktop launcher is known for {system.platform}")
        self.system = system
        self.menu = XdgLauncher(system)

    # --- where ----------------------------------------------------------------------------------

    def _named_folder(self) -> Path | None:
        """What ``xdg-user-dir DESKTOP`` answers (None: the tool is missing or said nothing)."""
        try:
            result = self.system.runner(["xdg-user-dir", "DESKTOP"])
        except OSError:
            return None
        out = result.stdout.strip()
        if result.returncode != 0 or not out or not Path(out).is_absolute():
            return None
        return Path(out)

    def _configured(self) -> bool:
        """Whether the user's ``user-dirs.dirs`` names a desktop folder (then it may be made)."""
        try:
            text = (self.system.config_home / "user-dirs.dirs").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return False
        return any(line.strip().startswith("XDG_DESKTOP_DIR=") for line in text.splitlines())

    def folder(self) -> Path | None:
        """The desktop folder, or None when this user has none and making one would be a guess."""
        home = self.system.home
        named = self._named_folder() or home / "Desktop"
        # XDG_DESKTOP_DIR="$HOME/" is how a user turns the desktop folder off.
        if named == home:
            return None
        if named.is_dir():
            return named
        if named.exists() or named.is_symlink():
            return None  # a file (or a dangling link) of that name: not ours to replace
        return named if self._configured() else None

    @property
    def path(self) -> Path | None:
        folder = self.folder()
        return folder / FILE_NAME if folder is not None else None

    def present(self) -> bool:
        path = self.path
        return path is not None and path.is_file()

    # --- what -----------------------------------------------------------------------------------

    def _data_dirs(self) -> list[Path]:
        raw = self.system.env.get("XDG_DATA_DIRS", "") or DEFAULT_DATA_DIRS
        return [Path(d) for d in raw.split(os.pathsep) if d and Path(d).is_absolute()]

    def _runnable(self, program: str) -> bool:
        if os.path.isabs(program):
            return os.access(program, os.X_OK) and Path(program).is_file()
        return shutil.which(program, path=self.system.env.get("PATH")) is not None

    def menu_entry(self) -> MenuEntry | None:
        """The menu entry the desktop shows, in its lookup order (the user's own first), skipping
        one whose program is gone (a removed virtualenv): the desktop hides those too."""
        for data in (self.system.data_home, *self._data_dirs()):
            path = data / "applications" / FILE_NAME
            if not path.is_file():
                continue
            command = desktop_entry_command(path)
            if command and self._runnable(command[0]):
                return MenuEntry(path, command)
        return None

    def render(self) -> str:
        entry = self.menu_entry()
        command = entry.command if entry is not None else self.system.command
        return render_desktop_entry("launcher.desktop.in", command)

    # --- doing ----------------------------------------------------------------------------------

    def add(self) -> list[Path]:
        """Put the launcher on the desktop (and the menu entry in place, when none is); returns
        what was written. Idempotent."""
        target = self.path
        if target is None:
            raise AutostartError(
                "there is no desktop folder (xdg-user-dir DESKTOP names none); "
                "create ~/Desktop and try again"
            )
        written: list[Path] = []
        if self.menu_entry() is None:
            written += self.menu.install()
        write_if_changed(target, self.render(), mode=0o755)
        self._trust(target)
        return [*written, target]

    def _trust(self, path: Path) -> None:
        if not shutil.which("gio", path=self.system.env.get("PATH")):
            return
        # Without gvfs (no session bus) this fails: the file still launches where the
        # executable bit is enough (KDE, Xfce), and GNOME asks once.
        with contextlib.suppress(OSError):
            self.system.runner(["gio", "set", str(path), "metadata::trusted", "true"])

    def remove(self) -> list[Path]:
        """Remove the launcher from the desktop (the menu entry stays: it is the menu's)."""
        path = self.path
        if path is None or not (path.is_file() or path.is_symlink()):
            return []
        remove_file(path)
        return [path]
