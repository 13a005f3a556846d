"""Start vms-tray at login: one backend per method, chosen here and only here.

The tray's "Start at login" item and ``vms-tray autostart`` use the same calls::

    backend = vms_tray.autostart.default_backend()
    backend.is_enabled(); backend.enable(); backend.disable(); backend.status()

Methods: ``xdg`` (Linux default), ``systemd``, ``launchd`` (macOS default), ``registry`` (Windows
default). ``VMS_TRAY_AUTOSTART_METHOD`` overrides the default. ``VMS_TRAY_AUTOSTART_DIR=DIR`` wins
over both: the entry is only written into DIR and nothing is registered with the system (the
demo's isolated profile sets it, so its "Start at login" stays inside the profile).
"""

from __future__ import annotations

from pathlib import Path

from vms_tray.autostart.base import (
    AutostartBackend,
    AutostartError,
    AutostartStatus,
    System,
)
from vms_tray.autostart.launchd import LaunchAgent
from vms_tray.autostart.registry import RunKey
from vms_tray.autostart.systemd import SystemdUserUnit
from vms_tray.autostart.xdg import FolderAutostart, XdgAutostart

ENV_METHOD = "VMS_TRAY_AUTOSTART_METHOD"
ENV_DIR = "VMS_TRAY_AUTOSTART_DIR"

BACKENDS: tuple[type[AutostartBackend], ...] = (XdgAutostart, SystemdUserUnit, LaunchAgent, RunKey)
METHODS = tuple(cls.name for cls in BACKENDS)

__all__ = [
    "BACKENDS",
    "ENV_DIR",
    "ENV_METHOD",
    "METHODS",
    "AutostartBackend",
    "AutostartError",
    "AutostartStatus",
    "System",
    "all_backends",
    "default_backend",
    "get_backend",
]


def all_backends(system: System | None = None) -> list[AutostartBackend]:
    system = system or System.current()
    return [cls(system) for cls in BACKENDS]


def get_backend(
    method: str, system: System | None = None, *, check: bool = True
) -> AutostartBackend:
    """The backend for ``method``; with ``check``, refuse one that cannot work on this machine."""
    for backend in all_backends(system):
        if backend.name == method:
            if check and not backend.viable:
                raise AutostartError(
                    f"{backend.why_not_viable} (choose one of: {_viable(backend.system)})"
                )
            return backend
    raise AutostartError(
        f"unknown autostart method {method!r} (choose one of: {', '.join(METHODS)})"
    )


def default_backend(system: System | None = None) -> AutostartBackend:
    """An entry kept in ``$VMS_TRAY_AUTOSTART_DIR`` only, if that is set; else
    ``$VMS_TRAY_AUTOSTART_METHOD``; else the viable backend with the highest priority."""
    system = system or System.current()
    folder = system.env.get(ENV_DIR, "").strip()
    if folder:
        return FolderAutostart(system, Path(folder))
    override = system.env.get(ENV_METHOD, "").strip()
    if override:
        return get_backend(override, system)
    viable = [b for b in all_backends(system) if b.viable]
    if not viable:
        raise AutostartError(
            f"no way to start vms-tray at login is known on {system.platform} "
            "(start it from your desktop's own startup settings)"
        )
    return max(viable, key=lambda b: b.priority)


def _viable(system: System) -> str:
    names = [b.name for b in all_backends(system) if b.viable]
    return ", ".join(names) if names else "none on this platform"
