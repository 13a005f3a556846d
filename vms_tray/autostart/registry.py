"""Windows per-user start at log-on: a value under ``HKCU\\...\\CurrentVersion\\Run``.

The registry sits behind :class:`Registry` (HKCU only, string values), so the backend runs on
Linux in tests with :class:`MemoryRegistry`; :class:`WinRegistry` imports ``winreg`` lazily
behind ``sys.platform == "win32"`` guards, which also keeps mypy on Linux clean.

Task Manager's "Startup" tab disables an entry without touching it, by writing a flag under
``Explorer\\StartupApproved\\Run``: ``status`` reports that, and ``enable`` clears it.
"""

from __future__ import annotations

import sys
from typing import Protocol

from vms_tray.autostart import templates
from vms_tray.autostart.base import (
    APP_ID,
    AutostartBackend,
    AutostartError,
    AutostartStatus,
    executable_exists,
)
from vms_tray.autostart.launch import parse_windows_cmdline, windows_cmdline

RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
APPROVED_KEY = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
VALUE_NAME = APP_ID


class Registry(Protocol):
    """The part of ``HKEY_CURRENT_USER`` we use. Keys are paths relative to HKCU."""

    def get(self, key: str, name: str) -> str | bytes | None: ...

    def set_string(self, key: str, name: str, value: str) -> None: ...

    def delete(self, key: str, name: str) -> bool: ...


class MemoryRegistry:
    """An in-memory HKCU for tests (and for rendering on other platforms)."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str | bytes] = {}

    def get(self, key: str, name: str) -> str | bytes | None:
        return self.values.get((key.lower(), name.lower()))

    def set_string(self, key: str, name: str, value: str) -> None:
        self.values[(key.lower(), name.lower())] = value

    def set_binary(self, key: str, name: str, value: bytes) -> None:
        self.values[(key.lower(), name.lower())] = value

    def delete(self, key: str, name: str) -> bool:
        return self.values.pop((key.lower(), name.lower()), None) is not None


class WinRegistry:
    """The real ``HKEY_CURRENT_USER`` through ``winreg`` (Windows only)."""

    def get(self, key: str, name: str) -> str | bytes | None:
        if sys.platform == "win32":
            import winreg

            try:
                with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key) as k:
                    value, _kind = winreg.QueryValueEx(k, name)
            except FileNotFoundError:
                return None
            return value if isinstance(value, str | bytes) else str(value)
        raise AutostartError("the Windows registry exists only on Windows")

    def set_string(self, key: str, name: str, value: str) -> None:
        if sys.platform == "win32":
            import winreg

            with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, key, 0, winreg.KEY_SET_VALUE) as k:
                winreg.SetValueEx(k, name, 0, winreg.REG_SZ, value)
            return
        raise AutostartError("the Windows registry exists only on Windows")

    def delete(self, key: str, name: str) -> bool:
        if sys.platform == "win32":
            import winreg

            try:
                with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key, 0, winreg.KEY_SET_VALUE) as k:
                    winreg.DeleteValue(k, name)
            except FileNotFoundError:
                return False
            return True
        raise AutostartError("the Windows registry exists only on Windows")


def default_registry(platform: str) -> Registry | None:
    return WinRegistry() if platform == "win32" else None


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
