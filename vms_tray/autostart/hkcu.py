"""The part of the Windows registry autostart uses: string values under ``HKEY_CURRENT_USER``.

:class:`Registry` is the seam: the Run-key backend (:mod:`vms_tray.autostart.registry`) and the
Windows shortcuts get one through :class:`~vms_tray.autostart.base.System`, so they run on Linux
in tests with ``vms_tray.testing.autostart.MemoryRegistry``. :class:`WinRegistry` imports
``winreg`` lazily behind ``sys.platform == "win32"`` guards, which also keeps mypy on Linux clean.
"""

from __future__ import annotations

import sys
from typing import Protocol

from vms_tray.errors import AutostartError

__all__ = ["Registry", "WinRegistry", "default_registry"]


class Registry(Protocol):
    """The part of ``HKEY_CURRENT_USER`` we use. Keys are paths relative to HKCU."""

    def get(self, key: str, name: str) -> str | bytes | None: ...

    def set_string(self, key: str, name: str, value: str) -> None: ...

    def delete(self, key: str, name: str) -> bool: ...


class WinRegistry:
    """The real ``HKEY_CURRENT_USER`` through ``winreg`` (Windows only)."""

    def get(self, key: str, name: str) -> str | bytes | None:
        if sys.platform == "win32":
            import winreg  # Windows only

            try:
                with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key) as k:
                    value, _kind = winreg.QueryValueEx(k, name)
            except FileNotFoundError:
                return None
            return value if isinstance(value, str | bytes) else str(value)
        raise AutostartError("the Windows registry exists only on Windows")

    def set_string(self, key: str, name: str, value: str) -> None:
        if sys.platform == "win32":
            import winreg  # Windows only

            with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, key, 0, winreg.KEY_SET_VALUE) as k:
                winreg.SetValueEx(k, name, 0, winreg.REG_SZ, value)
            return
        raise AutostartError("the Windows registry exists only on Windows")

    def delete(self, key: str, name: str) -> bool:
        if sys.platform == "win32":
            import winreg  # Windows only

            try:
                with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key, 0, winreg.KEY_SET_VALUE) as k:
                    winreg.DeleteValue(k, name)
            except FileNotFoundError:
                return False
            return True
        raise AutostartError("the Windows registry exists only on Windows")


def default_registry(platform: str) -> Registry | None:
    return WinRegistry() if platform == "win32" else None
