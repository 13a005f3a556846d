"""Test doubles for autostart backends: an in-memory Windows registry.

A backend written elsewhere can run against it the way vms-tray's own Run-key and shortcut
backends are tested on Linux (see ``tests/unit/autostart``).
"""

from __future__ import annotations

__all__ = ["MemoryRegistry"]


class MemoryRegistry:
    """An in-memory HKCU (a :class:`vms_tray.autostart.hkcu.Registry`); keys and value names
    ignore case, as Windows's do."""

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
