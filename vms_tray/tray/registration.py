"""Keeps an AppIndicator item registered with the StatusNotifier watcher.

libayatana-appindicator registers its item once each time the watcher's bus name gets a new
owner, and after an error it only falls back to an XEmbed icon: it never asks again while that
owner stays. A watcher can answer too early: gtk-sni-tray's takes its name before it exports its
object (UnknownObject, about one start in seven here, nearly every start on a loaded machine),
and a panel restarting at login can do the same. The item would then be missing from the panel
until the panel restarts again. So while a watcher is on the bus and libayatana has not reported
a registration (its ``connection-changed`` signal), we ask it to register again, backing off.

:class:`Keeper` is the decision logic, with the timer injected (unit-tested with a fake one);
:func:`keep_registered` wires it to GLib, Gio and the libayatana indicator.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

WATCHER = "org.kde.StatusNotifierWatcher"
FIRST_DELAY = 0.25  # seconds: a registration answered at once has been reported by then
MAX_DELAY = 30.0  # a watcher that keeps refusing costs one D-Bus call per this many seconds
QUIET_AFTER = 3  # attempts logged at info level; later ones at debug, so a log cannot flood


def retry_delay(attempt: int) -> float:
    """Seconds before check number ``attempt`` (0-based) after the watcher appeared."""
    return float(min(MAX_DELAY, FIRST_DELAY * 2 ** min(attempt, 16)))


class Timer(Protocol):
    def __call__(self, delay: float, fn: Callable[[], None]) -> Callable[[], None]:
        """Run ``fn`` once after ``delay`` seconds; returns a function that cancels it."""
        ...


class Keeper:
    """Asks for a new registration until the watcher takes the item.

    Events come from the loop that runs the indicator (one thread): the watcher's name got an
    owner or lost it, and libayatana's report that the item is (or is no longer) registered.
    """

    def __init__(self, register: Callable[[], None], timer: Timer) -> None:
        self._register = register
        self._timer = timer
        self._cancel: Callable[[], None] | None = None
        self._watcher = False
        self.registered = False
        self.attempts = 0  # registrations asked for since the watcher last appeared

    def watcher_appeared(self) -> None:
        # libayatana registers by itself on a new owner; the first check only looks at the result.
        self._watcher = True
        self.attempts = 0
        self._schedule()

    def watcher_vanished(self) -> None:
        self._watcher = False
        self.registered = False
        self._stop()

    def connection_changed(self, registered: bool) -> None:
        self.registered = registered
        if registered:
            self._stop()
        elif self._watcher:
            self._schedule()

    def close(self) -> None:
        self._watcher = False
        self._stop()

    def _schedule(self) -> None:
        self._stop()
        self._cancel = self._timer(retry_delay(self.attempts), self._check)

    def _stop(self) -> None:
        if self._cancel is not None:
            self._cancel()
            self._cancel = None

    def _check(self) -> None:
        self._cancel = None
        if self.registered or not self._watcher:
            return
        self.attempts += 1
        level = logging.INFO if self.attempts <= QUIET_AFTER else logging.DEBUG
        log.log(level, "the StatusNotifier watcher has not taken the tray item; registering again")
        try:
            self._register()
        except Exception as exc:  # a failing library call must not end the retries
            log.warning("could not register the tray item again: %s", type(exc).__name__)
        self._schedule()


def _glib_timer(delay: float, fn: Callable[[], None]) -> Callable[[], None]:
    from gi.repository import GLib  # optional: PyGObject, the 'gtk' extra

    def fire() -> bool:
        fn()
        return False  # once

    source = GLib.timeout_add(int(delay * 1000), fire)
    return lambda: GLib.source_remove(source)


def keep_registered(indicator: Any, register: Callable[[], None]) -> Callable[[], None]:
    """Start keeping ``indicator`` (an AyatanaAppIndicator3.Indicator) registered; ``register``
    makes libayatana register again. Call from the indicator's GLib loop; returns a stopper."""
    from gi.repository import Gio  # optional: PyGObject, the 'gtk' extra

    keeper = Keeper(register, _glib_timer)
    handler = indicator.connect(
        "connection-changed", lambda _ind, registered: keeper.connection_changed(bool(registered))
    )
    watch = Gio.bus_watch_name(
        Gio.BusType.SESSION,
        WATCHER,
        Gio.BusNameWatcherFlags.NONE,
        lambda *_args: keeper.watcher_appeared(),
        lambda *_args: keeper.watcher_vanished(),
    )

    def stop() -> None:
        keeper.close()
        Gio.bus_unwatch_name(watch)
        indicator.disconnect(handler)

    return stop
