"""Notices shown by the tray icon itself (pystray's ``Icon.notify``: Windows balloons, macOS).

The notifier exists before the icon does (the daemon is built first), so until ``attach`` is
called, and whenever the icon's own call fails, notices go to the fallback (the log).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from vms_tray.notify.base import Notice, Notifier
from vms_tray.notify.log import LogNotifier

log = logging.getLogger(__name__)

ShowFn = Callable[[str, str], None]  # (title, message)


class TrayNotifier(Notifier):
    name = "tray"
    supports_actions = False

    def __init__(self, fallback: Notifier | None = None) -> None:
        super().__init__()
        self.fallback = fallback or LogNotifier()
        self._show: ShowFn | None = None
        self._lock = threading.Lock()

    def attach(self, show: ShowFn | None) -> None:
        with self._lock:
            self._show = show

    def notify(self, notice: Notice) -> None:
        with self._lock:
            show = self._show
        if show is None:
            self.fallback.notify(notice)
            return
        try:
            show(notice.title, notice.body)
        except Exception as exc:
            log.warning("tray notification failed (%s)", type(exc).__name__)
            self.fallback.notify(notice)
