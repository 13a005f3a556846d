"""systemd user unit: ``$XDG_CONFIG_HOME/systemd/user/vms-tray.service``, ``WantedBy=`` the
graphical session, restarted after a crash but not after a clean quit.

``enable`` writes the unit and runs ``systemctl --user enable`` (which works without a running
user manager: it only creates the ``graphical-session.target.wants`` link); ``daemon-reload`` is
best effort, so the manager, when there is one, sees the new file. Neither call starts the
service now: a tray may already be running outside systemd.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from vms_tray.autostart import templates
from vms_tray.autostart.base import (
    APP_ID,
    AutostartBackend,
    AutostartError,
    AutostartStatus,
    CommandResult,
    executable_exists,
    remove_file,
    write_if_changed,
)
from vms_tray.autostart.launch import parse_systemd_exec, systemd_exec

UNIT = f"{APP_ID}.service"
TARGET = "graphical-session.target"


def unit_settings(text: str) -> dict[str, dict[str, str]]:
    """``{section: {key: last value}}`` of a unit file (enough to check what we wrote)."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        if current is not None and "=" in line:
            key, _, value = line.partition("=")
            current[key.strip()] = value.strip()
    return sections


class SystemdUserUnit(AutostartBackend):
    name = "systemd"
    description = "systemd user unit, started with graphical-session.target"

    @property
    def viable(self) -> bool:
        return self.system.is_linux_like and self._systemctl() is not None

    @property
    def why_not_viable(self) -> str:
        if not self.system.is_linux_like:
            return super().why_not_viable
        return "systemctl was not found on PATH (this system does not use systemd)"

    @property
    def priority(self) -> int:
        # Opt-in: graphical-session.target is only reached on desktops that integrate with
        # systemd (GNOME, KDE Plasma 5.25+), while XDG autostart works everywhere.
        return 30

    @property
    def unit_dir(self) -> Path:
        return self.system.config_home / "systemd" / "user"

    @property
    def path(self) -> Path:
        return self.unit_dir / UNIT

    @property
    def wants_link(self) -> Path:
        return self.unit_dir / f"{TARGET}.wants" / UNIT

    @property
    def location(self) -> str:
        return str(self.path)

    def _systemctl(self) -> str | None:
        return shutil.which("systemctl", path=self.system.env.get("PATH"))

    def _run(self, *args: str) -> CommandResult:
        argv = ["systemctl", "--user", *args]
        try:
            return self.system.runner(argv)
        except OSError as exc:
            raise AutostartError(
                f"cannot run systemctl: {exc.strerror or exc} (is systemd installed?)"
            ) from exc

    def _try(self, *args: str) -> None:
        # Best effort: without a user manager (a container, a login over ssh) daemon-reload
        # fails harmlessly, and without systemctl at all disable() removes the link itself.
        with contextlib.suppress(OSError):
            self.system.runner(["systemctl", "--user", *args])

    def _reload(self) -> None:
        self._try("daemon-reload")

    def render(self) -> str:
        return templates.render("vms-tray.service.in", exec_start=systemd_exec(self.system.command))

    def enable(self) -> AutostartStatus:
        if write_if_changed(self.path, self.render()):
            self._reload()
        if not self.wants_link.is_symlink():
            result = self._run("enable", UNIT)
            if result.returncode != 0:
                detail = (result.stderr.strip().splitlines() or ["no message"])[-1]
                raise AutostartError(
                    f"'systemctl --user enable {UNIT}' failed: {detail} "
                    "(try 'vms-tray autostart enable --method xdg' instead)"
                )
        return self.status()

    def disable(self) -> bool:
        had_unit = self.path.exists()
        had_link = self.wants_link.is_symlink()
        if not (had_unit or had_link):
            return False
        if had_unit:
            # systemctl needs the unit file to read its [Install] section.
            self._try("disable", UNIT)
        if self.wants_link.is_symlink():
            # systemctl could not do it (missing, or the file was gone): remove our link only.
            remove_file(self.wants_link)
        remove_file(self.path)
        self._reload()
        return True

    def status(self) -> AutostartStatus:
        path = self.path
        linked = self.wants_link.is_symlink()
        if not path.exists():
            dangling = (f"{self.wants_link} points at a missing unit",) if linked else ()
            return AutostartStatus(self.name, False, str(path), notes=dangling)
        notes: list[str] = []
        command: tuple[str, ...] | None = None
        try:
            text = path.read_text(encoding="utf-8")
            exec_start = unit_settings(text).get("Service", {}).get("ExecStart", "")
            command = tuple(parse_systemd_exec(exec_start)) or None
            current = text == self.render()
        except (OSError, UnicodeDecodeError, ValueError):
            current = False
        if not linked:
            notes.append(f"the unit exists but is not enabled (no {self.wants_link})")
        return AutostartStatus(
            self.name,
            True,
            str(path),
            command=command,
            executable_exists=executable_exists(command[0] if command else None),
            up_to_date=current,
            active=linked,
            notes=tuple(notes),
        )
