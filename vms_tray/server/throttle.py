"""Failed sign-ins, counted per login and per client address (in memory).

Two questions are asked of the same record: "too many failures in the last ``window`` seconds?"
(answer 429 with Retry-After) and, for the ``after-failures`` captcha policy, "any recent
failures at all?" over a longer ``captcha_window``. A successful sign-in clears the login's record
(not the address's: one good password must not unlock guessing at other accounts).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from vms_tray.server.clock import Clock


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int = 5
    window: float = 60.0
    captcha_after: int = 3
    captcha_window: float = 900.0


class Throttle:
    def __init__(self, clock: Clock, policy: ThrottlePolicy = ThrottlePolicy()) -> None:
        self._clock = clock
        self.policy = policy
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(login: str, address: str) -> tuple[str, str]:
        return ("login:" + login, "addr:" + address)

    def _recent(self, key: str, now: float, window: float) -> list[float]:
        times = self._failures.get(key)
        if not times:
            return []
        keep = now - max(self.policy.window, self.policy.captcha_window)
        while times and times[0] < keep:
            times.popleft()
        if not times:
            del self._failures[key]
            return []
        return [t for t in times if t > now - window]

    def retry_after(self, login: str, address: str) -> float | None:
        """Seconds until a sign-in may be tried again, or None when it may be tried now."""
        now = self._clock.now()
        worst: float | None = None
        with self._lock:
            for key in self._keys(login, address):
                recent = self._recent(key, now, self.policy.window)
                if len(recent) >= self.policy.max_failures:
                    # Allowed again once enough of the window's failures have aged out.
                    free_at = recent[-self.policy.max_failures] + self.policy.window
                    wait = free_at - now
                    worst = wait if worst is None else max(worst, wait)
        return worst

    def captcha_due(self, login: str, address: str) -> bool:
        now = self._clock.now()
        with self._lock:
            return any(
                len(self._recent(key, now, self.policy.captcha_window)) >= self.policy.captcha_after
                for key in self._keys(login, address)
            )

    def failed(self, login: str, address: str) -> None:
        now = self._clock.now()
        with self._lock:
            for key in self._keys(login, address):
                self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) > 100_000:
                # Bound memory under a spray of logins/addresses: forget the oldest records.
                for key in list(self._failures)[:50_000]:
                    del self._failures[key]

    def succeeded(self, login: str) -> None:
        with self._lock:
            self._failures.pop("login:" + login, None)


class RateLimit:
    """At most ``limit`` events per ``window`` seconds per key (captcha pictures per address)."""

    def __init__(self, clock: Clock, limit: int, window: float) -> None:
        self._clock = clock
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Count one event; None if allowed, else seconds until the next one would be."""
        now = self._clock.now()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return events[0] + self.window - now
            events.append(now)
            if len(self._events) > 100_000:
                for k in [
                    k for k, v in self._events.items() if not v or v[-1] <= now - self.window
                ]:
                    del self._events[k]
            return None
