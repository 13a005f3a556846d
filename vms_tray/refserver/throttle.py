"""Failed sign-ins, counted the way trusted systems count them (in memory).

Guessing is slowed where it happens, not where it is aimed, so nobody who knows a login can lock
its owner out (protocol "Throttling"):

* **Per pair.** Failures are counted per (login, client address) pair, or per (login, device)
  when the sign-in presents a valid device token of that login (a *known device*). The first
  ``free_failures`` of a pair cost nothing; each one after waits ``delay`` seconds, doubling up
  to ``max_delay`` (30, 60, 120, ... 900 s). With the ``after-failures`` captcha policy, a pair
  with ``captcha_after`` failures in ``captcha_window`` must answer a captcha. A successful
  sign-in clears its own pair (and so ends its captcha requirement); a pair is forgotten
  ``memory`` seconds after its last failure.
* **Ceilings.** Far above one pair's allowance, ``login_ceiling`` failures of one login (from
  anywhere) or ``address_ceiling`` failures from one address (at any login) in
  ``ceiling_window`` stop sign-ins of *unknown* devices of that login, or from that address,
  until the oldest counted failure ages out. A known device is not stopped by a ceiling: others'
  failures never lock it out.

Addresses are counted per IPv4 address and per IPv6 /64 (one host's allotment: counting single
IPv6 addresses would give a guesser 2**64 pairs).
"""

from __future__ import annotations

import ipaddress
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import TypeVar

from vms_tray.refserver.clock import ServerClock

V = TypeVar("V")

# Records kept at most per table; the least recently failed go first beyond this.
MAX_RECORDS = 100_000


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 4
    delay: float = 30.0
    max_delay: float = 900.0
    memory: float = 3600.0
    captcha_after: int = 2
    captcha_window: float = 900.0
    login_ceiling: int = 50
    address_ceiling: int = 100
    ceiling_window: float = 900.0


def address_key(address: str) -> str:
    """The unit an address is counted in: the IPv4 address, or the IPv6 /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass
class _Pair:
    count: int = 0
    last: float = 0.0
    recent: deque[float] = field(default_factory=deque)  # the newest ``captcha_after`` times


def _bounded_put(table: dict[str, V], key: str, value: V) -> None:
    table.pop(key, None)
    table[key] = value  # most recent last
    while len(table) > MAX_RECORDS:
        del table[next(iter(table))]


class Throttle:
    def __init__(self, clock: ServerClock, policy: ThrottlePolicy = ThrottlePolicy()) -> None:
        self._clock = clock
        self.policy = policy
        self._pairs: dict[str, _Pair] = {}
        self._ceilings: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _pair_key(login: str, address: str, device: str | None) -> str:
        if device is not None:
            return f"device:{device}:{login}"
        return f"pair:{address_key(address)}:{login}"

    @staticmethod
    def _ceiling_keys(login: str, address: str) -> tuple[str, str]:
        return ("login:" + login, "addr:" + address_key(address))

    def _pair(self, key: str, now: float) -> _Pair | None:
        pair = self._pairs.get(key)
        if pair is not None and now - pair.last >= self.policy.memory:
            del self._pairs[key]
            return None
        return pair

    def _ceiling(self, key: str, now: float) -> deque[float] | None:
        times = self._ceilings.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.policy.ceiling_window:
            times.popleft()
        if not times:
            del self._ceilings[key]
            return None
        return times

    def pair_wait(self, count: int) -> float:
        """How long a pair waits after its ``count``-th failure (0: not at all)."""
        p = self.policy
        over = count - p.free_failures
        if over <= 0:
            return 0.0
        return float(min(p.delay * 2.0 ** min(over - 1, 32), p.max_delay))

    def retry_after(self, login: str, address: str, device: str | None = None) -> float | None:
        """Seconds until a sign-in may be tried again, or None when it may be tried now."""
        now = self._clock.now()
        p = self.policy
        waits: list[float] = []
        with self._lock:
            pair = self._pair(self._pair_key(login, address, device), now)
            if pair is not None:
                free_at = pair.last + self.pair_wait(pair.count)
                if free_at > now:
                    waits.append(free_at - now)
            if device is None:
                ceilings = zip(
                    self._ceiling_keys(login, address),
                    (p.login_ceiling, p.address_ceiling),
                    strict=True,
                )
                for key, ceiling in ceilings:
                    times = self._ceiling(key, now)
                    if times is not None and len(times) >= ceiling:
                        # Allowed again once enough of the window's failures have aged out.
                        waits.append(times[-ceiling] + p.ceiling_window - now)
        return max(waits) if waits else None

    def captcha_due(self, login: str, address: str, device: str | None = None) -> bool:
        now = self._clock.now()
        p = self.policy
        with self._lock:
            pair = self._pair(self._pair_key(login, address, device), now)
            if pair is None:
                return False
            return sum(1 for t in pair.recent if t > now - p.captcha_window) >= p.captcha_after

    def failed(self, login: str, address: str, device: str | None = None) -> None:
        now = self._clock.now()
        p = self.policy
        with self._lock:
            key = self._pair_key(login, address, device)
            pair = self._pair(key, now) or _Pair()
            pair.count += 1
            pair.last = now
            pair.recent.append(now)
            while len(pair.recent) > max(p.captcha_after, 1):
                pair.recent.popleft()
            _bounded_put(self._pairs, key, pair)
            for key, ceiling in zip(
                self._ceiling_keys(login, address),
                (p.login_ceiling, p.address_ceiling),
                strict=True,
            ):
                times = self._ceiling(key, now) or deque()
                times.append(now)
                while len(times) > ceiling:
                    times.popleft()
                _bounded_put(self._ceilings, key, times)

    def succeeded(self, login: str, address: str, device: str | None = None) -> None:
        """The pair proved the password: its delays and captcha requirement end. The ceilings
        keep counting (one good password must not unlock guessing elsewhere)."""
        with self._lock:
            self._pairs.pop(self._pair_key(login, address, device), None)


class RateLimit:
    """At most ``limit`` events per ``window`` seconds per key (captcha pictures per address)."""

    def __init__(self, clock: ServerClock, limit: int, window: float) -> None:
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
            if len(self._events) > MAX_RECORDS:
                for k in [
                    k for k, v in self._events.items() if not v or v[-1] <= now - self.window
                ]:
                    del self._events[k]
            return None
