"""Windows per-user start at log-on: a value under ``HKCU\\...\\CurrentVersion\\Run``.

The registry sits behind :class:`~vms_tray.autostart.hkcu.Registry` (HKCU only, string values),
so the backend runs on Linux in tests with ``vms_tray.testing.autostart.MemoryRegistry``.

Task Manager's "Startup" tab disables an entry without touching it, by writing a flag under
``Explorer\\StartupApproved\\Run``: ``status`` reports that, and ``enable`` clears it.
"""

from __future__ import annotations

from vms_tray.autostart import templates
from vms_tray.autostart.base import (
    APP_ID,
    AutostartBackend,
    AutostartError,
    AutostartStatus,
    executable_exists,
)
from vms_tray.autostart.hkcu import Registry
from vms_tray.autostart.launch import parse_windows_cmdline, windows_cmdline

RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
APPROVED_KEY = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
VALUE_NAME = APP_ID


def approval_disabled(flag: str | bytes | None) -> bool:
    # Explorer writes 12 bytes; an odd first byte (0x03) means "disabled in Task Manager".
    return isinstance(flag, bytes) and len(flag) > 0 and flag[0] % 2 == 1


def reg_file_string(value: str) -> str:
    """A value in ``.reg`` syntax: double quotes, with ``\\`` and ``"`` escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class RunKey(AutostartBackend):
    name = "registry"
    description = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run value"

    @property
    def viable(self) -> bool:
        return self.system.platform == "win32" and self.system.registry is not None

    @property
    def priority(self) -> int:
        return 50

    @property
    def location(self) -> str:
        return f"HKEY_CURRENT_USER\\{RUN_KEY}\\{VALUE_NAME}"

    @property
    def registry(self) -> Registry:
        reg: Registry | None = self.system.registry
        if reg is None:
            raise AutostartError(
                "the registry method works only on Windows (see 'vms-tray autostart status')"
            )
        return reg

    def value(self) -> str:
        return windows_cmdline(self.system.gui_command)

    def render(self) -> str:
        """A ``.reg`` file with the same value, for deploying by hand."""
        return templates.render("windows-run.reg.in", reg_value=reg_file_string(self.value()))

    def enable(self) -> AutostartStatus:
        reg = self.registry
        value = self.value()
        if reg.get(RUN_KEY, VALUE_NAME) != value:
            reg.set_string(RUN_KEY, VALUE_NAME, value)
        if approval_disabled(reg.get(APPROVED_KEY, VALUE_NAME)):
            reg.delete(APPROVED_KEY, VALUE_NAME)
        return self.status()

    def disable(self) -> bool:
        return self.registry.delete(RUN_KEY, VALUE_NAME)

    def status(self) -> AutostartStatus:
        reg = self.registry
        raw = reg.get(RUN_KEY, VALUE_NAME)
        if raw is None:
            return AutostartStatus(self.name, False, self.location)
        text = raw if isinstance(raw, str) else ""
        command = tuple(parse_windows_cmdline(text)) or None
        disabled = approval_disabled(reg.get(APPROVED_KEY, VALUE_NAME))
        notes = (
            ("disabled in Task Manager's Startup tab; 'enable' clears that",) if disabled else ()
        )
        return AutostartStatus(
            self.name,
            True,
            self.location,
            command=command,
            executable_exists=executable_exists(command[0] if command else None),
            up_to_date=text == self.value(),
            active=not disabled,
            notes=notes,
        )
