"""The tray's jobs: clicks run in order on one worker, waiting journeys beside it, a failing job
does not stop the next, and drain waits for both kinds."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from vms_tray.tray.jobs import Jobs


@pytest.fixture
def jobs() -> Iterator[Jobs]:
    j = Jobs()
    j.start()
    yield j
    j.shutdown()


def test_jobs_run_in_order_and_a_failure_does_not_stop_the_next(jobs: Jobs) -> None:
    ran: list[int] = []

    def broken() -> None:
        raise RuntimeError("boom")

    jobs.submit(lambda: ran.append(1))
    jobs.submit(broken)
    jobs.submit(lambda: ran.append(2))
    assert jobs.drain()
    assert ran == [1, 2]


def test_a_spawned_journey_runs_beside_the_worker_and_drain_waits_for_it(jobs: Jobs) -> None:
    release = threading.Event()
    done: list[str] = []

    def journey() -> None:
        release.wait(5)
        done.append("journey")

    jobs.spawn(journey)
    jobs.submit(lambda: done.append("click"))  # not held up by the waiting journey
    assert not jobs.drain(timeout=0.2)
    assert done == ["click"]
    release.set()
    assert jobs.drain()
    assert done == ["click", "journey"]
