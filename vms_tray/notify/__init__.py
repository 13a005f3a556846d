"""Notification backends (D-Bus, pystray, log) behind one base class; chosen in one place.

``select_notifier()`` is that place. ``VMS_TRAY_NOTIFIER`` overrides the choice:
``dbus`` | ``tray`` | ``log`` | ``none``. Whatever is chosen, ``notify`` never raises: a failing
backend hands the notice to the log.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping

from vms_tray.notify.base import (
    Action,
    ActionHandler,
    Notice,
    NoticeKind,
    Notifier,
    Urgency,
    icon_path,
)
from vms_tray.notify.log import LogNotifier
from vms_tray.notify.tray import TrayNotifier

__all__ = [
    "Action",
    "ActionHandler",
    "LogNotifier",
    "Notice",
    "NoticeKind",
    "Notifier",
    "NullNotifier",
    "TrayNotifier",
    "Urgency",
    "icon_path",
    "select_notifier",
]

log = logging.getLogger(__name__)
CHOICES = ("dbus", "tray", "log", "none")


class NullNotifier(Notifier):
    name = "none"

    def notify(self, notice: Notice) -> None:
        pass


def _app_icon() -> str:
    return icon_path("vms-tray")


def select_notifier(env: Mapping[str, str] | None = None, platform: str | None = None) -> Notifier:
    """The notifier for this desktop: D-Bus on Linux when a service exists, the tray icon
    elsewhere, the log as the fallback of each."""
    env = os.environ if env is None else env
    platform = platform or sys.platform
    choice = (env.get("VMS_TRAY_NOTIFIER") or "").strip().lower()
    if choice and choice not in CHOICES:
        log.warning("VMS_TRAY_NOTIFIER=%s is not one of %s; choosing one", choice, CHOICES)
        choice = ""
    if choice == "none":
        return NullNotifier()
    if choice == "log":
        return LogNotifier(stream=sys.stderr)
    if choice == "tray":
        return TrayNotifier()
    if platform.startswith("linux") or choice == "dbus":
        try:
            # here: it imports jeepney, a dependency on Linux only (pyproject's marker)
            from vms_tray.notify.dbus import DBusNotifier, service_available
        except ImportError:  # VMS_TRAY_NOTIFIER=dbus where jeepney is not installed
            log.warning("no D-Bus library (jeepney) here; notices go to the log")
            return LogNotifier(stream=sys.stderr)
        if choice == "dbus" or service_available():
            return DBusNotifier(icon=_app_icon(), fallback=LogNotifier(stream=sys.stderr))
        log.info("no desktop notification service; notices go to the log")
        return LogNotifier(stream=sys.stderr)
    return TrayNotifier()
