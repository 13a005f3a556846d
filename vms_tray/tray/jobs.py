"""Where the tray's clicks run: never on the tray's own thread, which must stay responsive.

A click is a short job for the one action worker (post a command, open a dialog). A job that
waits on the daemon (a sign-in run to its end, a session list) gets a thread of its own, so
other clicks keep moving. :meth:`Jobs.drain` waits for both kinds (shutdown, tests).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

Job = Callable[[], None]


def guarded(fn: Job) -> Job:
    """``fn`` with its failure logged: a broken click must not end the thread it runs on."""

    def run() -> None:
        try:
            fn()
        except Exception:
            log.exception("tray action failed")

    return run


class Jobs:
    def __init__(self) -> None:
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="tray-actions", daemon=True)
        self._flows: list[threading.Thread] = []  # _flows_lock: dialog journeys under way
        self._flows_lock = threading.Lock()

    def start(self) -> None:
        self._worker.start()

    def submit(self, job: Job) -> None:
        """Run ``job`` on the action worker, after the jobs before it."""
        self._queue.put(job)

    def spawn(self, job: Job) -> None:
        """A job that waits on the daemon, off the action worker so other clicks go on."""
        t = threading.Thread(target=guarded(job), name="tray-flow", daemon=True)
        with self._flows_lock:
            self._flows.append(t)
        t.start()

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            guarded(job)()

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every queued job and spawned journey ran; True if done in time."""
        deadline = time.monotonic() + timeout
        while True:
            done = threading.Event()
            self.submit(done.set)
            if not done.wait(max(0.0, deadline - time.monotonic())):
                return False
            with self._flows_lock:
                flows = [t for t in self._flows if t.is_alive()]
                self._flows = flows
            if not flows:
                return True
            for t in flows:
                t.join(max(0.0, deadline - time.monotonic()))
                if t.is_alive():
                    return False

    def shutdown(self) -> None:
        """End the action worker once the jobs queued before this ran (up to 5 s)."""
        self._queue.put(None)
        if self._worker.is_alive() and threading.current_thread() is not self._worker:
            self._worker.join(timeout=5)
