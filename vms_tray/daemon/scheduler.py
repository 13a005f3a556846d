"""One-shot named timers for the daemon, behind a small interface (a fake one drives tests).

The real one is APScheduler 3's BackgroundScheduler with a date trigger per timer. Its defaults
drop runs after a suspend (``misfire_grace_time=1``): every job here uses
``misfire_grace_time=None`` and ``coalesce=True`` so a late timer runs once, however late.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from apscheduler.executors.pool import ThreadPoolExecutor  # type: ignore[import-untyped]
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]

log = logging.getLogger(__name__)


class Scheduler(Protocol):
    def start(self) -> None: ...

    def set(self, name: str, delay: float, fn: Callable[[], None]) -> None:
        """Run ``fn`` once after ``delay`` seconds; replaces a timer of the same name."""

    def cancel(self, name: str) -> None: ...

    def shutdown(self) -> None: ...


class ApsScheduler:
    def __init__(self) -> None:
        # One worker thread is plenty: each job only posts an event to the daemon's queue.
        self._aps = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
            timezone=UTC,
        )

    def start(self) -> None:
        self._aps.start()

    def set(self, name: str, delay: float, fn: Callable[[], None]) -> None:
        when = datetime.now(UTC) + timedelta(seconds=max(0.0, delay))
        self._aps.add_job(
            fn,
            "date",
            run_date=when,
            id=name,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
        )

    def cancel(self, name: str) -> None:
        job = self._aps.get_job(name)
        if job is not None:
            # It may fire between the lookup and the removal.
            with contextlib.suppress(LookupError):
                job.remove()

    def shutdown(self) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=False)
