"""Who hears the daemon: snapshot subscribers, show listeners (a window is wanted), stop
listeners, and the notifier. A show request made while nobody listened is kept and replayed to
the first listener.

Registration is thread-safe; the daemon's worker calls ``publish``, ``show`` and ``stopped``.
A listener that raises is logged and never takes the daemon down.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from vms_tray.notify.base import Notice, Notifier
from vms_tray.session.snapshot import Snapshot

log = logging.getLogger(__name__)


class Listeners:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[Snapshot], None]] = []
        self._show: list[Callable[[str], None]] = []
        self._unheard: str | None = None  # _lock: the last show request no listener heard
        self._stop: list[Callable[[], None]] = []

    def subscribe(self, callback: Callable[[Snapshot], None]) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def on_show(self, callback: Callable[[str], None]) -> None:
        with self._lock:
            self._show.append(callback)
            missed, self._unheard = self._unheard, None
        if missed is not None:
            log.info("replaying the show request %r to a late listener", missed)
            _call_show(callback, missed)

    def on_stop(self, callback: Callable[[], None]) -> None:
        with self._lock:
            self._stop.append(callback)

    def forget_unheard(self) -> None:
        """A sign-in or quit made a window asked for earlier out of date."""
        with self._lock:
            self._unheard = None

    def publish(self, snap: Snapshot) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for cb in subscribers:
            try:
                cb(snap)
            except Exception:
                log.exception("subscriber failed")

    def show(self, reason: str) -> None:
        with self._lock:
            listeners = list(self._show)
            if not listeners:
                self._unheard = reason
        for cb in listeners:
            _call_show(cb, reason)

    def stopped(self) -> None:
        with self._lock:
            listeners = list(self._stop)
        for cb in listeners:
            try:
                cb()
            except Exception:
                log.exception("stop listener failed")


class SafeNotifier:
    """The notifier as the worker uses it: a failing backend is logged, never raised."""

    def __init__(self, notifier: Notifier) -> None:
        self._notifier = notifier

    def notify(self, notice: Notice) -> None:
        self._guard(lambda: self._notifier.notify(notice))

    def withdraw(self, topic: str) -> None:
        self._guard(lambda: self._notifier.withdraw(topic))

    def withdraw_all(self) -> None:
        self._guard(self._notifier.withdraw_all)

    def _guard(self, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception:  # a backend must not take the daemon down
            log.exception("notification backend %s failed", self._notifier.name)


def _call_show(callback: Callable[[str], None], reason: str) -> None:
    try:
        callback(reason)
    except Exception:
        log.exception("show listener failed")
