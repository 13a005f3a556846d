"""testing/clock: FakeServerClock keeps time as a ServerClock does, but moves only when told."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from vms_tray.refserver.clock import ServerClock
from vms_tray.testing.clock import FakeServerClock


def test_it_starts_at_a_fixed_moment_and_stands_still() -> None:
    clock: ServerClock = FakeServerClock()
    assert clock.now() == clock.now() == 1_800_000_000.0
    assert datetime.fromtimestamp(clock.now(), UTC) == datetime(2027, 1, 15, 8, 0, tzinfo=UTC)


def test_it_starts_where_told_and_moves_by_what_it_is_told() -> None:
    clock = FakeServerClock(start=100.0)
    clock.advance(60)
    clock.advance(0.5)
    assert clock.now() == 160.5


def test_advances_from_many_threads_all_count() -> None:
    clock = FakeServerClock(start=0.0)

    def advance() -> None:
        for _ in range(1000):
            clock.advance(1)

    threads = [threading.Thread(target=advance) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clock.now() == 8000.0
