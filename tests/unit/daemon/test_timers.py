"""The engine's named timers on the wall-clock scheduler: due times on the engine's clock, a
firing that was cancelled or replaced is ignored, and a wall-clock jump re-anchors them all."""

from __future__ import annotations

from tests.unit.daemon.fakes import FakeClock, FakeScheduler
from vms_tray.daemon.timers import TimerFired, Timers
from vms_tray.session.engine import Timer


class Rig:
    """Timers whose firings are collected, as the daemon's queue would get them."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.scheduler = FakeScheduler(self.clock)
        self.delivered: list[TimerFired] = []
        self.timers = Timers(self.scheduler, self.clock, self.delivered.append)

    def advance(self, seconds: float) -> None:
        self.clock.tick(seconds)
        self.scheduler.run_due()

    def current(self) -> list[Timer]:
        """The delivered firings the daemon would act on (each one spends its timer)."""
        return [item.timer for item in self.delivered if self.timers.fired(item)]


def test_a_timer_fires_at_its_time_on_the_engines_clock() -> None:
    rig = Rig()
    rig.timers.set(Timer.POLL, rig.clock.now() + 60)
    assert rig.timers.pending() == {Timer.POLL: rig.clock.now() + 60}
    rig.advance(59)
    assert rig.delivered == []
    rig.advance(1)
    assert rig.current() == [Timer.POLL]
    assert rig.timers.pending() == {}


def test_a_time_already_past_fires_at_once() -> None:
    rig = Rig()
    rig.timers.set(Timer.REFRESH, rig.clock.now() - 30)
    assert rig.scheduler.jobs["refresh"][0] == rig.clock.wall()  # no negative delay
    rig.advance(0)
    assert rig.current() == [Timer.REFRESH]


def test_setting_a_timer_again_replaces_it_and_the_old_firing_is_ignored() -> None:
    rig = Rig()
    rig.timers.set(Timer.RETRY, rig.clock.now() + 10)
    stale = TimerFired(Timer.RETRY, 1)  # what the first setting would have delivered
    rig.timers.set(Timer.RETRY, rig.clock.now() + 100)
    assert rig.timers.fired(stale) is False
    assert Timer.RETRY in rig.timers.pending()  # the stale firing did not spend the new one
    rig.advance(10)
    assert rig.delivered == []
    rig.advance(90)
    assert rig.current() == [Timer.RETRY]


def test_a_cancelled_timer_never_counts_even_if_its_firing_was_already_queued() -> None:
    rig = Rig()
    rig.timers.set(Timer.SEAT, rig.clock.now() + 5)
    rig.advance(5)  # delivered to the queue...
    rig.timers.cancel(Timer.SEAT)  # ...then cancelled before the daemon got to it
    assert rig.current() == []
    assert "seat" not in rig.scheduler.jobs
    rig.timers.cancel(Timer.SEAT)  # cancelling twice is harmless


def test_cancel_all_leaves_nothing_pending_or_scheduled() -> None:
    rig = Rig()
    for timer in (Timer.REFRESH, Timer.POLL, Timer.RETRY):
        rig.timers.set(timer, rig.clock.now() + 30)
    rig.timers.cancel_all()
    assert rig.timers.pending() == {} and rig.scheduler.jobs == {}
    rig.advance(60)
    assert rig.delivered == []


def test_after_the_wall_clock_is_set_back_reanchoring_keeps_the_due_time() -> None:
    rig = Rig()
    rig.timers.set(Timer.REFRESH, rig.clock.now() + 120)
    rig.advance(20)
    rig.clock.set_wall(-3600)  # the scheduler would now wait an hour longer
    rig.timers.reanchor()
    rig.advance(99)
    assert rig.delivered == []
    rig.advance(1)
    assert rig.current() == [Timer.REFRESH]


def test_after_a_suspend_reanchoring_fires_what_fell_due_meanwhile() -> None:
    rig = Rig()
    rig.timers.set(Timer.POLL, rig.clock.now() + 60)
    rig.clock.suspend(3600)  # wall and engine clocks moved; the job is long overdue
    rig.timers.reanchor()
    rig.advance(0)
    assert rig.current() == [Timer.POLL]
