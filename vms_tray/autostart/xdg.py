"""XDG autostart: ``$XDG_CONFIG_HOME/autostart/vms-tray.desktop`` (freedesktop Autostart spec).

Honoured by GNOME, KDE, Xfce, LXQt, Cinnamon, MATE and, on systemd desktops, turned into a
transient ``app-vms-tray@autostart.service`` by ``systemd-xdg-autostart-generator``. ``TryExec``
names the interpreter, so an entry left behind by a removed venv is skipped at login instead of
failing; ``status`` reports it and ``enable`` rewrites it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vms_tray.autostart import templates
from vms_tray.autostart.base import (
    APP_ID,
    AutostartBackend,
    AutostartStatus,
    System,
    executable_exists,
    remove_file,
    write_if_changed,
)
from vms_tray.autostart.launch import (
    desktop_exec,
    desktop_string,
    desktop_unstring,
    parse_desktop_exec,
)


def render_desktop_entry(template: str, argv: Sequence[str]) -> str:
    return templates.render(
        template,
        exec=desktop_string(desktop_exec(argv)),
        try_exec=desktop_string(argv[0]),
    )


def read_desktop_entry(text: str) -> dict[str, str]:
    """Keys of the ``[Desktop Entry]`` group (unlocalised), values string-unescaped."""
    entry: dict[str, str] = {}
    group = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1]
            continue
        if group != "Desktop Entry" or "=" not in line:
            continue
        key, _, value = line.partition("=")
        entry.setdefault(key.strip(), desktop_unstring(value.strip()))
    return entry


def desktop_entry_command(path: Path) -> tuple[str, ...] | None:
    try:
        entry = read_desktop_entry(path.read_text(encoding="utf-8"))
        return tuple(parse_desktop_exec(entry.get("Exec", "")))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


class XdgAutostart(AutostartBackend):
    name = "xdg"
    description = "XDG autostart entry (~/.config/autostart), read by the desktop at login"

    @property
    def viable(self) -> bool:
        return self.system.is_linux_like

    @property
    def priority(self) -> int:
        # The default on Linux: every desktop reads it, with or without systemd.
        return 50

    @property
    def path(self) -> Path:
        return self.system.config_home / "autostart" / f"{APP_ID}.desktop"

    @property
    def location(self) -> str:
        return str(self.path)

    def render(self) -> str:
        return render_desktop_entry("autostart.desktop.in", self.system.command)

    def enable(self) -> AutostartStatus:
        write_if_changed(self.path, self.render())
        return self.status()

    def disable(self) -> bool:
        return remove_file(self.path)

    def status(self) -> AutostartStatus:
        path = self.path
        if not path.exists():
            return AutostartStatus(self.name, False, str(path))
        command = desktop_entry_command(path)
        notes: list[str] = []
        try:
            entry = read_desktop_entry(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            entry = {}
        hidden = entry.get("Hidden", "").lower() == "true"
        off = entry.get("X-GNOME-Autostart-enabled", "true").lower() == "false"
        if hidden or off:
            notes.append("the entry is switched off in the desktop's settings")
        try:
            current = path.read_text(encoding="utf-8") == self.render()
        except (OSError, UnicodeDecodeError):
            current = False
        return AutostartStatus(
            self.name,
            True,
            str(path),
            command=command,
            executable_exists=executable_exists(command[0] if command else None),
            up_to_date=current,
            active=not (hidden or off),
            notes=tuple(notes),
        )


class FolderAutostart(XdgAutostart):
    """The same entry, written into one folder and nowhere else: nothing is registered with the
    desktop, so nothing starts at login. ``VMS_TRAY_AUTOSTART_DIR`` chooses it (see
    :func:`vms_tray.autostart.default_backend`); ``vms-tray demo`` points it into its profile, so
    the demo's "Start at login" never touches the real ``~/.config/autostart``."""

    description = "a desktop entry kept in a folder of its own (nothing starts at login)"

    def __init__(self, system: System, folder: Path) -> None:
        super().__init__(system)
        self.folder = folder

    @property
    def viable(self) -> bool:
        return True

    @property
    def path(self) -> Path:
        return self.folder / f"{APP_ID}.desktop"
