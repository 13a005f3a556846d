"""The clocks and the heartbeat that notices suspend and wall-clock jumps."""

from __future__ import annotations

import threading
import time

import pytest

from tests.unit.daemon.fakes import FakeClock
from vms_tray.daemon.clock import Heartbeat, JumpDetector, SystemClock


def test_jump_detector() -> None:
    clock = FakeClock()
    d = JumpDetector(clock, tolerance=5)
    clock.tick(10)
    assert d.check() is None
    clock.suspend(3600)
    assert d.check() == pytest.approx(3600)
    clock.set_wall(-3600)
    assert d.check() == pytest.approx(-3600)
    clock.tick(10)
    assert d.check() is None


def test_the_system_clocks_agree_with_the_platform() -> None:
    clock = SystemClock()
    before = time.time()
    wall = clock.wall()
    assert before <= wall <= time.time()
    first, mono = clock.now(), clock.monotonic()
    assert clock.now() >= first and clock.monotonic() >= mono  # neither ever goes back
    # No jump between two readings taken together.
    assert JumpDetector(clock, tolerance=5).check() is None


def test_the_heartbeat_reports_a_jump_from_its_own_thread_and_stops() -> None:
    clock = FakeClock()
    heard: list[float] = []
    jumped = threading.Event()

    def on_jump(skew: float) -> None:
        heard.append(skew)
        jumped.set()

    beat = Heartbeat(JumpDetector(clock, tolerance=5), on_jump, interval=0.01)
    clock.set_wall(-3600)  # the user set the clock back an hour
    beat.start()
    try:
        assert jumped.wait(5)
    finally:
        beat.stop()
    beat._thread.join(5)
    assert not beat._thread.is_alive()
    assert heard == [pytest.approx(-3600)]  # reported once: the detector re-anchors
