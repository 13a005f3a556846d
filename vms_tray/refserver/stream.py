"""``GET /api/v1/events``: protocol v1.1's live events (docs/protocol.md, "Live events").

A stream is state-based: on (re)connect and after every change of its account (the service
tells ``on_change`` once the transaction is committed) it sends the account's session list as a
``sessions`` event, only when it differs from what this stream last sent; an ended session gets
its ``ended`` event (the ``session-ended`` problem's body) and the stream closes. So a client that
reconnects, with or without ``Last-Event-ID``, is current at once and loses nothing.

The stream's own checks (is its token still good, is its session still on) are not activity: an
open stream is not a user at work. A stream whose access token expired is closed; the client
reconnects with the refreshed one. One sweeper ends lapsed sessions every few seconds, so idle
timeouts reach the streams too.

Fan-out: after a change every stream of the account looks, so what they show is made once per
account and change (``Service.account_view``, one worker-thread hop, each entry serialised
once) and each session's stream only marks its own entry ``current``; a stream keeps a digest
of what it sent, not a copy. Only a stream whose session left the list asks the service itself
(for its ``ended`` event). A waiter's stream (a conflict token: few of them) asks in full.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response, StreamingResponse

from vms_tray.refserver.events import EventBus, Subscription
from vms_tray.refserver.problems import Problem
from vms_tray.refserver.service import Caller, Service, SessionCaller

log = logging.getLogger(__name__)

HEARTBEAT = 15.0  # the protocol's "a comment line at least every 15 s"
SWEEP_EVERY = 5.0
RETRY_MS = 3000
VIEW_FRESH = 1.0  # seconds a made account view serves the streams that look for the same change

Call = Callable[..., Awaitable[Any]]


def frame(name: str, data: str, event_id: int) -> str:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"id: {event_id}\nevent: {name}\n{lines}\n"


@dataclass(frozen=True)
class AccountView:
    """One change's picture of an account, shared by its streams."""

    limit: str  # JSON
    order: tuple[str, ...]  # session ids, in the list's order
    entries: dict[str, str]  # session id -> its entry's JSON, ``current`` false
    own: dict[str, str]  # session id -> its entry's JSON, ``current`` true
    handovers: dict[str, str]  # session id -> the handover-requested event's JSON

    @classmethod
    def of(cls, view: dict[str, Any]) -> AccountView:
        entries: dict[str, str] = {}
        own: dict[str, str] = {}
        for e in view["sessions"]:
            entries[e["id"]] = json.dumps(e)
            own[e["id"]] = json.dumps({**e, "current": True})
        return cls(
            limit=json.dumps(view["limit"]),
            order=tuple(e["id"] for e in view["sessions"]),
            entries=entries,
            own=own,
            handovers={k: json.dumps(v) for k, v in view["handovers"].items()},
        )

    def listing_for(self, session_id: str) -> str:
        """The ``sessions`` event's data as this session's stream shows it."""
        parts = (self.own[i] if i == session_id else self.entries[i] for i in self.order)
        return f'{{"limit": {self.limit}, "sessions": [{", ".join(parts)}]}}'


async def _next_news(sub: Subscription, event_id: int) -> tuple[int, bool]:
    """Wait for the account's next change, at most a heartbeat: (the newest event id, news?)."""
    with contextlib.suppress(TimeoutError):
        event = await asyncio.wait_for(sub.queue.get(), HEARTBEAT)
        return max(event_id, event.id), True
    return event_id, False


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


class EventStreams:
    def __init__(self, service: Service, call: Call) -> None:
        self.service = service
        self._call = call  # runs a service call in the thread pool (the app's busy mapping)
        self._bus: EventBus | None = None
        self._sweeper: asyncio.Task[None] | None = None
        # login -> (event id, when, the view being made or made then): one per account and
        # change, shared for VIEW_FRESH seconds (idle flags and countdowns move with time alone)
        self._views: dict[str, tuple[int, float, asyncio.Future[AccountView]]] = {}

    def _ready(self) -> EventBus:
        """The bus, made in the loop on the first stream (the app is built before the loop)."""
        if self._bus is None:
            loop = asyncio.get_running_loop()
            self._bus = EventBus(loop)
            self.service.on_change = self._changed
            self._sweeper = loop.create_task(self._sweep())
        return self._bus

    def _changed(self, login: str) -> None:
        """From a worker thread, after the commit."""
        bus = self._bus
        if bus is None:
            return
        if login == "*":
            bus.publish_everyone("changed", "{}")
        else:
            bus.publish(login, "changed", "{}")

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            try:
                await self._call(self.service.sweep)
            except Exception as exc:  # a busy store: the next sweep tries again
                log.info("sweep skipped: %s", type(exc).__name__)

    async def _account_view(self, login: str, event_id: int) -> AccountView:
        now = time.monotonic()
        made = self._views.get(login)
        if made is None or made[0] != event_id or now - made[1] > VIEW_FRESH:
            future = asyncio.ensure_future(self._make_view(login))
            made = self._views[login] = (event_id, now, future)
        return await asyncio.shield(made[2])

    async def _make_view(self, login: str) -> AccountView:
        view: dict[str, Any] = await self._call(self.service.account_view, login)
        return AccountView.of(view)

    async def respond(self, bearer: str) -> Response:
        caller: Caller = await self._call(
            self.service.authenticate, bearer, allow_conflict=True, touch=False
        )
        bus = self._ready()
        if isinstance(caller, SessionCaller):
            sub = bus.subscribe(caller.session.login, caller.session.id)
            expires: float | None = await self._call(self.service.token_expires_at, bearer)
            body = self._session_body(bus, sub, bearer, caller.session.id, expires)
        else:
            sub = bus.subscribe(caller.conflict.login, None)
            body = self._waiter_body(bus, sub, bearer)
        return StreamingResponse(
            body,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    def _expired(self, expires: float | None) -> bool:
        return expires is None or self.service.clock.now() >= expires

    async def _session_body(
        self,
        bus: EventBus,
        sub: Subscription,
        bearer: str,
        session_id: str,
        expires: float | None,
    ) -> AsyncIterator[str]:
        event_id, sent, handover = bus.last_id(sub.login), b"", ""
        try:
            yield f"retry: {RETRY_MS}\n\n"
            news = True
            while not sub.closed.is_set():
                if self._expired(expires):
                    return  # the client comes back with the refreshed token
                if news:
                    try:
                        view = await self._account_view(sub.login, event_id)
                    except Problem:
                        return  # a busy store: the client reconnects (and is current then)
                    if session_id not in view.order:
                        # Gone from the list: the service says why (the ended event), or that
                        # the token is no good; either way this stream is over.
                        try:
                            await self._call(
                                self.service.authenticate, bearer, allow_conflict=False, touch=False
                            )
                        except Problem as problem:
                            if problem.name == "session-ended":
                                yield frame("ended", json.dumps(problem.body()), event_id)
                        return
                    listing = view.listing_for(session_id)
                    if _digest(listing) != sent:
                        sent = _digest(listing)
                        yield frame("sessions", listing, event_id)
                    mine = view.handovers.get(session_id, "")
                    if mine and mine != handover:
                        handover = mine
                        yield frame("handover-requested", mine, event_id)
                event_id, news = await _next_news(sub, event_id)
                if not news:
                    yield ": keep-alive\n\n"
        finally:
            bus.unsubscribe(sub)

    def _look(self, bearer: str, news: bool) -> tuple[str | None, list[tuple[str, str]]]:
        """A waiter's look, in one worker-thread hop: is its conflict token still good (raises
        the Problem when not), and with ``news`` the session list (listing it lets the token end
        what it sees) and its place in line."""
        caller = self.service.authenticate(bearer, allow_conflict=True, touch=False)
        if not news:
            return None, []
        return json.dumps(self.service.list_sessions(caller)), self._news(caller)

    def _news(self, caller: Caller) -> list[tuple[str, str]]:
        """A waiter's own v1.1 news: its place in line (a ``seat-offered`` once a seat is held
        for it, ``queue`` otherwise)."""
        news: list[tuple[str, str]] = []
        place = self.service.waiter_place(caller)
        if place is not None and place["held_until"] is not None:
            offer = {"held_until": place["held_until"], "expires_in": place["expires_in"]}
            news.append(("seat-offered", json.dumps(offer)))
        elif place is not None:
            queue = {"position": place["position"], "length": place["length"]}
            news.append(("queue", json.dumps(queue)))
        return news

    async def _waiter_body(
        self, bus: EventBus, sub: Subscription, bearer: str
    ) -> AsyncIterator[str]:
        event_id, sent, place = bus.last_id(sub.login), "", ""
        try:
            yield f"retry: {RETRY_MS}\n\n"
            news = True
            while not sub.closed.is_set():
                try:
                    listing, mine = await self._call(self._look, bearer, news)
                    if listing is not None:
                        if listing != sent:
                            sent = listing
                            yield frame("sessions", listing, event_id)
                        for name, data in mine:
                            if data != place:
                                place = data
                                yield frame(name, data, event_id)
                except Problem:
                    return  # spent (renewed) or expired: the waiter comes back with its new one
                event_id, news = await _next_news(sub, event_id)
                if not news:
                    yield ": keep-alive\n\n"
        finally:
            bus.unsubscribe(sub)
