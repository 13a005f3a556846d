"""Clocks and the heartbeat that notices suspend/resume and wall-clock jumps.

The engine runs on ``Clock.now()``: a clock that never jumps and, where the platform has one
(Linux ``CLOCK_BOOTTIME``), keeps counting through suspend, so token lifetimes stay honest. The
scheduler (APScheduler) works on wall time, which a user or NTP can move; the heartbeat compares
wall time with the monotonic clock and reports a jump, after which the daemon re-anchors every
timer and checks the server at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    def wall(self) -> float:
        """Seconds since the epoch (what the scheduler and the user see)."""

    def monotonic(self) -> float:
        """Never jumps; may stop during suspend."""

    def now(self) -> float:
        """The engine's clock: never jumps; counts suspend where the platform allows."""


class SystemClock:
    def __init__(self) -> None:
        self._boot = getattr(time, "CLOCK_BOOTTIME", None)

    def wall(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> float:
        if self._boot is not None:
            return time.clock_gettime(self._boot)
        return time.monotonic()


class JumpDetector:
    """Pure: fed clock readings, says when wall time and monotonic time disagree."""

    def __init__(self, clock: Clock, tolerance: float = 5.0) -> None:
        self._clock = clock
        self.tolerance = tolerance
        self._wall = clock.wall()
        self._mono = clock.monotonic()

    def check(self) -> float | None:
        """The size of the jump since the last check (seconds, signed), or None."""
        wall, mono = self._clock.wall(), self._clock.monotonic()
        skew = (wall - self._wall) - (mono - self._mono)
        self._wall, self._mono = wall, mono
        return skew if abs(skew) > self.tolerance else None


class Heartbeat:
    """A thread that runs the detector every ``interval`` seconds of monotonic time.

    It cannot be a scheduler job: after the clock is set back, the scheduler itself is silent.
    """

    def __init__(
        self, detector: JumpDetector, on_jump: Callable[[float], None], interval: float = 10.0
    ) -> None:
        self._detector = detector
        self._on_jump = on_jump
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        # Event.wait times out on the monotonic clock, so a wall-clock change cannot stall it.
        while not self._stop.wait(self._interval):
            skew = self._detector.check()
            if skew is not None:
                self._on_jump(skew)
