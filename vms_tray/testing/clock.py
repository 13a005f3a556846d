"""A clock for the reference server's in-process tests (a ``vms_tray.refserver.clock.ServerClock``)
that moves only when told."""

from __future__ import annotations

import threading


class FakeServerClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds
