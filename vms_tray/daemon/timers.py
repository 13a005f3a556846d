"""The engine's named timers on top of the wall-clock scheduler.

Due times are kept on the engine's clock (which never jumps); the scheduler gets delays. A timer
that fires after it was cancelled or replaced is recognised by its generation and ignored. After a
wall-clock jump ``reanchor`` hands every pending timer to the scheduler again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vms_tray.daemon.clock import Clock
from vms_tray.daemon.scheduler import Scheduler
from vms_tray.session.engine import Timer


@dataclass(frozen=True)
class TimerFired:
    timer: Timer
    generation: int


class Timers:
    def __init__(
        self, scheduler: Scheduler, clock: Clock, deliver: Callable[[TimerFired], None]
    ) -> None:
        self._scheduler = scheduler
        self._clock = clock
        self._deliver = deliver  # puts the firing on the daemon's queue (any thread)
        self._due: dict[Timer, float] = {}
        self._generation: dict[Timer, int] = dict.fromkeys(Timer, 0)

    def set(self, timer: Timer, at: float) -> None:
        self._generation[timer] += 1
        self._due[timer] = at
        self._hand_over(timer)

    def cancel(self, timer: Timer) -> None:
        self._generation[timer] += 1
        if self._due.pop(timer, None) is not None:
            self._scheduler.cancel(timer.value)

    def cancel_all(self) -> None:
        for timer in list(self._due):
            self.cancel(timer)

    def fired(self, item: TimerFired) -> bool:
        """True if this firing is current (and the timer is now spent)."""
        if self._generation[item.timer] != item.generation:
            return False
        self._due.pop(item.timer, None)
        return True

    def reanchor(self) -> None:
        # The scheduler counts in wall time, which just moved.
        for timer in list(self._due):
            self._hand_over(timer)

    def pending(self) -> dict[Timer, float]:
        return dict(self._due)

    def _hand_over(self, timer: Timer) -> None:
        item = TimerFired(timer, self._generation[timer])
        delay = max(0.0, self._due[timer] - self._clock.now())
        self._scheduler.set(timer.value, delay, lambda: self._deliver(item))
