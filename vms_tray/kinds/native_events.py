"""The native kind's side of protocol v1.1's live events (docs/protocol.md "Live events").

While signed in to a server that lists the ``events`` feature, one daemon thread keeps
``GET /api/v1/events`` open. What it hears makes the daemon check at once (the same callback as
AIPIX's logout push: the check's answer carries the news, its notices and its state), and whether
the stream is up is reported so the engine can stretch its polling to a slow safety net while it
is. The stream never ends or changes anything itself.

Reconnecting: the server closes a stream when the access token it was opened with expires; the
follower reconnects at once with the newest token the kind has seen (each refresh hands it
over) and ``Last-Event-ID``, so nothing is lost. A failed connection is retried with capped,
jittered exponential backoff; an expired token waits for the next refresh; an ended session
stops the follower (the daemon's check then ends the session with its notice).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable

from vms_tray.errors import AuthError, ServerError, TokenExpired
from vms_tray.net.http import HttpAdapter
from vms_tray.net.sse import Event, Parser

log = logging.getLogger(__name__)

FEATURE = "events"
STREAM_PATH = "/events"
# Three of the server's heartbeats (at least every 15 s): a silent stream is a dead one.
READ_TIMEOUT = 45.0
BACKOFF_FIRST = 1.0
BACKOFF_CAP = 60.0
# A stream the server closes sooner than this after it opened counts as a failure for the
# backoff, so a server that accepts and drops at once is not hammered.
HEALTHY_AFTER = 5.0
# Events after which the daemon checks at once; ``sessions`` only when it differs from the last.
_NEWS = frozenset({"ended", "handover-requested", "seat-offered", "queue"})


def _nothing() -> None:
    return None


def _nothing_live(live: bool) -> None:
    return None


class EventFollower:
    """One server's events stream, followed on a daemon thread between ``follow`` and ``stop``."""

    def __init__(
        self,
        http: HttpAdapter,
        *,
        features: Callable[[], frozenset[str]],
        label: str,
        rng: random.Random | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        backoff_first: float = BACKOFF_FIRST,
    ) -> None:
        self.on_change: Callable[[], None] = _nothing
        self.on_live: Callable[[bool], None] = _nothing_live
        self.wanted = False  # someone listens (``on_change`` was set by the daemon)
        self._http = http
        self._features = features
        self._label = label
        self._rng = rng or random.Random()
        self._monotonic = monotonic
        self._backoff_first = backoff_first
        self._lock = threading.Lock()
        self._bearer: str | None = None
        self._new_bearer = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_id: str | None = None
        self._last_sessions: str | None = None
        self._live = False

    @property
    def live(self) -> bool:
        return self._live

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive() and not self._stop.is_set()

    def follow(self, bearer: str) -> None:
        """Follow the stream with ``bearer`` (a new access token replaces the old one)."""
        if not self.wanted:
            return
        with self._lock:
            self._bearer = bearer
            self._new_bearer.set()
            if self.running:
                return
            self._stop = threading.Event()
            self._last_id = self._last_sessions = None
            self._thread = threading.Thread(
                target=self._run, args=(self._stop,), name="native-events", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop following; the open stream ends with its next line or heartbeat timeout (the
        server closes an ended session's streams at once, so a sign-out ends it at once)."""
        with self._lock:
            self._stop.set()
            self._new_bearer.set()
            self._bearer = None
        self._set_live(False)

    def join(self, timeout: float) -> bool:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    # --- the thread ----------------------------------------------------------------------------

    def _run(self, stop: threading.Event) -> None:
        try:
            if FEATURE not in self._features():
                log.info("%s has no events stream: polling only", self._label)
                return
        except ServerError as exc:
            log.info("%s: events stream not started (%s); polling", self._label, type(exc).__name__)
            return
        attempt = 0
        while not stop.is_set():
            with self._lock:
                bearer = self._bearer
                self._new_bearer.clear()
            if bearer is None:
                return
            opened = self._monotonic()
            try:
                self._read(bearer, stop)
            except TokenExpired:
                # The stream's token expired before the daemon's refresh came: wait for it.
                self._set_live(False)
                self._new_bearer.wait(BACKOFF_CAP)
                continue
            except AuthError:
                # The session is over: the daemon's check says how, with its notice.
                self._set_live(False)
                if not stop.is_set():
                    self.on_change()
                return
            except ServerError as exc:
                self._set_live(False)
                log.info("%s: events stream lost (%s); retrying", self._label, type(exc).__name__)
                attempt += 1
                stop.wait(self._backoff(attempt))
                continue
            attempt = 0 if self._monotonic() - opened >= HEALTHY_AFTER else attempt + 1
            if attempt:
                stop.wait(self._backoff(attempt))

    def _backoff(self, attempt: int) -> float:
        ceiling = min(BACKOFF_CAP, self._backoff_first * 2 ** min(attempt - 1, 16))
        return self._rng.uniform(ceiling / 2, ceiling)

    def _read(self, bearer: str, stop: threading.Event) -> None:
        headers = {"Last-Event-ID": self._last_id} if self._last_id else None
        parser = Parser()
        with self._http.stream(
            STREAM_PATH, bearer=bearer, headers=headers, read_timeout=READ_TIMEOUT
        ) as lines:
            self._set_live(True)
            for line in lines:
                if stop.is_set():
                    return
                event = parser.feed(line)
                if parser.last_id is not None:
                    self._last_id = parser.last_id
                if event is not None:
                    self._heard(event, stop)

    def _heard(self, event: Event, stop: threading.Event) -> None:
        if event.name == "sessions":
            news = event.data != self._last_sessions
            self._last_sessions = event.data
        else:
            news = event.name in _NEWS
        if news and not stop.is_set():
            log.debug("%s: event %s", self._label, event.name)
            self.on_change()
        if event.name == "ended":
            log.info("%s: the server ended this session (%s)", self._label, _reason(event.data))
            self._set_live(False)  # the server closes the stream now: no news comes by it

    def _set_live(self, live: bool) -> None:
        if live != self._live:
            self._live = live
            log.info("%s: events stream %s", self._label, "up" if live else "down")
            self.on_live(live)


def _reason(data: str) -> str:
    try:
        value = json.loads(data).get("reason")
    except (ValueError, AttributeError, RecursionError):  # nested too deep: a hostile server
        return "no reason given"
    return value if isinstance(value, str) else "no reason given"
