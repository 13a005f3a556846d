"""Timing and threshold policies of the session engine: pure functions of their inputs and an rng.

Jitter comes from an injected ``random.Random`` so tests are reproducible and many clients that
lost the same server at the same moment do not all come back in the same second.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import IntEnum


class Level(IntEnum):
    """How full the account's session seats are, in warning terms."""

    UNKNOWN = 0
    UNDER = 1
    NEAR = 2
    FULL = 3


@dataclass(frozen=True)
class Timing:
    poll_interval: float = 60.0
    warn_margin: int = 1
    # Refresh at a random point between these fractions of the access token's lifetime...
    refresh_early: float = 0.5
    refresh_late: float = 0.7
    # ...but never later than this many seconds before expiry (short-lived tokens), nor sooner
    # than ``refresh_floor`` after the last refresh (a hot loop on a broken server).
    refresh_margin: float = 30.0
    refresh_floor: float = 1.0
    backoff_initial: float = 2.0
    backoff_cap: float = 300.0
    # A first retry due within this many seconds is made before the user is told of an outage.
    quiet_retry: float = 10.0
    # A Retry-After beyond this is treated as a misconfigured server, not an instruction.
    retry_after_cap: float = 3600.0
    seat_retry_interval: float = 30.0
    # While the server's events stream is up its news arrives at once: a poll is then only a
    # safety net against a stream that is silently stuck.
    live_poll_interval: float = 600.0


class EnginePolicy:
    """The engine's timing decisions (refresh, backoff, seat retry, poll) and seat levels.
    Named apart from ``connections.policy.Policy``, the administrator's policy file."""

    def __init__(self, timing: Timing | None = None, rng: random.Random | None = None) -> None:
        self.timing = timing or Timing()
        self._rng = rng or random.Random()

    def refresh_delay(self, lifetime: float) -> float:
        """Seconds after receiving a token of ``lifetime`` seconds at which to refresh it."""
        t = self.timing
        delay = lifetime * self._rng.uniform(t.refresh_early, t.refresh_late)
        if lifetime - delay < t.refresh_margin:
            # Short tokens: keep the margin when the lifetime allows, else refresh at half-life.
            delay = lifetime - t.refresh_margin if lifetime > 2 * t.refresh_margin else lifetime / 2
        return max(t.refresh_floor, delay)

    def backoff_delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Delay before reconnect attempt ``attempt`` (0-based): exponential, capped, jittered."""
        t = self.timing
        ceiling = min(t.backoff_cap, t.backoff_initial * (2 ** min(attempt, 32)))
        # "Equal jitter": at least half the step, so retries stay spaced while still spreading.
        delay = self._rng.uniform(ceiling / 2, ceiling)
        if retry_after is not None and retry_after > 0:
            delay = max(delay, min(retry_after, t.retry_after_cap))
        return delay

    def seat_retry_delay(self, retry_after: float | None = None) -> float:
        base = self.timing.seat_retry_interval
        delay = self._rng.uniform(base * 0.8, base * 1.2)
        if retry_after is not None and retry_after > 0:
            delay = max(delay, min(retry_after, self.timing.retry_after_cap))
        return delay

    def poll_delay(self, live: bool = False) -> float:
        t = self.timing
        return max(t.poll_interval, t.live_poll_interval) if live else t.poll_interval

    def level(self, in_use: int | None, maximum: int | None) -> Level:
        if in_use is None or maximum is None:
            return Level.UNKNOWN
        if in_use >= maximum:
            return Level.FULL
        if in_use >= maximum - self.timing.warn_margin:
            return Level.NEAR
        return Level.UNDER
