"""Notices shown by the tray icon itself (pystray's ``Icon.notify``: Windows balloons, macOS).

The notifier exists before the icon does (the daemon is built first), so until ``attach`` is
called, and whenever the icon's own call fails, notices go to the fallback (the log). The icon
shows one notice at a time: a new one replaces it, whatever its topic; ``withdraw`` removes it
when it is the topic's, and an expiring notice is removed after its time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from vms_tray.notify.base import Notice, Notifier
from vms_tray.notify.log import LogNotifier

log = logging.getLogger(__name__)

ShowFn = Callable[[str, str], None]  # (title, message)
RemoveFn = Callable[[], None]


class TrayNotifier(Notifier):
    name = "tray"
    supports_actions = False

    def __init__(self, fallback: Notifier | None = None) -> None:
        super().__init__()
        self.fallback = fallback or LogNotifier()
        self._show: ShowFn | None = None
        self._remove: RemoveFn | None = None
        self._lock = threading.Lock()
        self._shown: Notice | None = None  # what the icon shows now
        self._timer: threading.Timer | None = None

    def attach(self, show: ShowFn | None, remove: RemoveFn | None = None) -> None:
        """``show``: the icon's notify; ``remove``: its remove_notification. Given the bound
        ``notify`` of an icon alone, its ``remove_notification`` is found next to it."""
        if remove is None and show is not None:
            found = getattr(getattr(show, "__self__", None), "remove_notification", None)
            remove = found if callable(found) else None
        with self._lock:
            self._show, self._remove = show, remove

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
            return
        with self._lock:
            self._shown = notice
            self._cancel_timer()
            if notice.expires is not None:
                self._timer = threading.Timer(notice.expires, self._expire, (notice,))
                self._timer.daemon = True
                self._timer.start()

    def withdraw(self, topic: str) -> None:
        with self._lock:
            match = self._shown is not None and bool(topic) and self._shown.topic == topic
        if match:
            self._take_back()

    def withdraw_all(self) -> None:
        with self._lock:
            shown = self._shown is not None
        if shown:
            self._take_back()

    def close(self) -> None:
        self.withdraw_all()
        with self._lock:
            self._cancel_timer()

    def _expire(self, notice: Notice) -> None:
        with self._lock:
            current = self._shown is notice
        if current:
            self._take_back()

    def _take_back(self) -> None:
        with self._lock:
            remove = self._remove
            self._shown = None
            self._cancel_timer()
        if remove is None:
            return
        try:
            remove()
        except Exception as exc:
            log.debug("removing the tray notification failed (%s)", type(exc).__name__)

    def _cancel_timer(self) -> None:
        """Caller holds ``_lock``."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
