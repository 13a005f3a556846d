"""The per-account event bus of protocol v1.1's live events (docs/protocol.md, "Live events").

Service calls run in worker threads; streams are coroutines in the event loop. ``publish`` may be
called from any thread: it numbers the event under a lock (one sequence per account), keeps it in
the account's replay history, and hands it to the loop with ``call_soon_threadsafe``, where it is
put in each matching stream's bounded queue. A stream whose queue is full is closed rather than
waited for, so one slow reader never holds back the others or the worker thread.

``refserver/stream.py`` serves the streams from it.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import deque
from dataclasses import dataclass, field

HISTORY = 256  # the protocol promises at least the last 100 per account on Last-Event-ID
QUEUE_SIZE = 64  # events a stream may lag behind before it is closed


@dataclass(frozen=True)
class Event:
    id: int
    name: str
    data: str  # JSON text
    session_id: str | None = None  # None: every stream of the account


@dataclass(eq=False)
class Subscription:
    login: str
    session_id: str | None
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    def wants(self, event: Event) -> bool:
        return event.session_id is None or event.session_id == self.session_id


class EventBus:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._lock = threading.Lock()
        self._seq: dict[str, itertools.count[int]] = {}
        self._history: dict[str, deque[Event]] = {}
        # Touched only in the loop thread.
        self._subs: dict[str, set[Subscription]] = {}

    def publish(self, login: str, name: str, data: str, session_id: str | None = None) -> Event:
        with self._lock:
            seq = self._seq.setdefault(login, itertools.count(1))
            event = Event(next(seq), name, data, session_id)
            self._history.setdefault(login, deque(maxlen=HISTORY)).append(event)
        self.loop.call_soon_threadsafe(self._deliver, login, event)
        return event

    def publish_everyone(self, name: str, data: str) -> None:
        """An event for every account that has streams (the idle sweep ended some sessions)."""
        self.loop.call_soon_threadsafe(self._deliver_everyone, name, data)

    def _deliver_everyone(self, name: str, data: str) -> None:
        for login in list(self._subs):
            self.publish(login, name, data)

    def last_id(self, login: str) -> int:
        """The id of the account's latest event (0: none yet)."""
        with self._lock:
            held = self._history.get(login)
            return held[-1].id if held else 0

    def replay(self, login: str, after: int, session_id: str | None) -> list[Event]:
        """The held events of ``login`` after id ``after`` that a stream of ``session_id`` gets."""
        with self._lock:
            held = list(self._history.get(login, ()))
        return [e for e in held if e.id > after and (e.session_id in (None, session_id))]

    def subscribe(self, login: str, session_id: str | None) -> Subscription:
        sub = Subscription(login, session_id)
        self._subs.setdefault(login, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.login)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.login]

    def close_session(self, login: str, session_id: str) -> None:
        """Close the streams of an ended session (thread-safe; runs after queued events)."""
        self.loop.call_soon_threadsafe(self._close_session, login, session_id)

    def _close_session(self, login: str, session_id: str) -> None:
        for sub in list(self._subs.get(login, ())):
            if sub.session_id == session_id:
                sub.closed.set()

    def _deliver(self, login: str, event: Event) -> None:
        for sub in list(self._subs.get(login, ())):
            if not sub.wants(event) or sub.closed.is_set():
                continue
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                sub.closed.set()  # too slow: it reconnects with Last-Event-ID and loses nothing
                self.unsubscribe(sub)

    def streams(self) -> int:
        return sum(len(s) for s in self._subs.values())
