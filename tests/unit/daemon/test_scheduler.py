"""The real APScheduler wrapper: runs, replaces, cancels, and never drops a late run."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from tests.support.components import wait_until
from vms_tray.daemon.scheduler import ApsScheduler


def test_runs_replaces_and_cancels() -> None:
    s = ApsScheduler()
    s.start()
    try:
        fired: list[str] = []
        done = threading.Event()

        def a() -> None:
            fired.append("a")
            done.set()

        s.set("a", 3600, lambda: fired.append("stale"))
        s.set("a", 0.01, a)  # replaces the first
        s.set("b", 0.01, lambda: fired.append("b-cancelled"))
        s.cancel("b")
        s.cancel("never-set")
        assert done.wait(5)
        wait_until(lambda: s._aps.get_job("a") is None, 5, "the spent job to be removed")
        assert fired == ["a"]
    finally:
        s.shutdown()


def test_a_run_an_hour_late_still_happens_once() -> None:
    """APScheduler's default grace of 1 s drops it: after a suspend nothing would run."""
    s = ApsScheduler()
    s.start()
    try:
        runs: list[int] = []
        done = threading.Event()

        def job() -> None:
            runs.append(1)
            done.set()

        late = datetime.now(UTC) - timedelta(hours=1)
        s._aps.add_job(job, "date", run_date=late, id="late")
        assert done.wait(5)
        # Let APScheduler finish its bookkeeping of the run before shutting it down.
        wait_until(lambda: s._aps.get_job("late") is None, 5, "the spent job to be removed")
        job_defaults = s._aps._job_defaults
        assert job_defaults["misfire_grace_time"] is None and job_defaults["coalesce"] is True
        assert runs == [1]
    finally:
        s.shutdown()
