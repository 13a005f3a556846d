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
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.responses import Response, StreamingResponse

from vms_tray.refserver.events import EventBus, Subscription
from vms_tray.refserver.problems import Problem
from vms_tray.refserver.service import Caller, Service, SessionCaller

log = logging.getLogger(__name__)

HEARTBEAT = 15.0  # the protocol's "a comment line at least every 15 s"
SWEEP_EVERY = 5.0
RETRY_MS = 3000

Call = Callable[..., Awaitable[Any]]


def frame(name: str, data: str, event_id: int) -> str:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"id: {event_id}\nevent: {name}\n{lines}\n"


class EventStreams:
    def __init__(self, service: Service, call: Call) -> None:
        self.service = service
        self._call = call  # runs a service call in the thread pool (the app's busy mapping)
        self._bus: EventBus | None = None
        self._sweeper: asyncio.Task[None] | None = None

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

    async def respond(self, bearer: str) -> Response:
        caller: Caller = await self._call(
            self.service.authenticate, bearer, allow_conflict=True, touch=False
        )
        bus = self._ready()
        if isinstance(caller, SessionCaller):
            sub = bus.subscribe(caller.session.login, caller.session.id)
        else:
            sub = bus.subscribe(caller.conflict.login, None)
        return StreamingResponse(
            self._body(bus, sub, bearer),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    def _look(self, bearer: str, news: bool) -> tuple[str | None, list[tuple[str, str]]]:
        """In one worker-thread hop (a thousand streams hear each change): is the token still
        good (raises the Problem when not), and with ``news`` the session list and the caller's
        own news."""
        caller = self.service.authenticate(bearer, allow_conflict=True, touch=False)
        if not news:
            return None, []
        return json.dumps(self.service.list_sessions(caller)), self._news(caller)

    def _news(self, caller: Caller) -> list[tuple[str, str]]:
        """The caller's own v1.1 news: a handover asked of its session; its place in line (a
        ``seat-offered`` once a seat is held for it, ``queue`` otherwise)."""
        news: list[tuple[str, str]] = []
        handover = self.service.handover_of(caller)
        if handover is not None:
            news.append(("handover-requested", json.dumps(handover)))
        place = self.service.waiter_place(caller)
        if place is not None and place["held_until"] is not None:
            offer = {"held_until": place["held_until"], "expires_in": place["expires_in"]}
            news.append(("seat-offered", json.dumps(offer)))
        elif place is not None:
            queue = {"position": place["position"], "length": place["length"]}
            news.append(("queue", json.dumps(queue)))
        return news

    async def _body(self, bus: EventBus, sub: Subscription, bearer: str) -> AsyncIterator[str]:
        event_id, sent, place, handover = bus.last_id(sub.login), "", "", ""
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
                            if name == "handover-requested" and data != handover:
                                handover = data
                                yield frame(name, data, event_id)
                            elif name in ("queue", "seat-offered") and data != place:
                                place = data
                                yield frame(name, data, event_id)
                except Problem as problem:
                    if problem.name == "session-ended":
                        yield frame("ended", json.dumps(problem.body()), event_id)
                    return  # expired token: the client comes back with the refreshed one
                news = False
                with contextlib.suppress(TimeoutError):
                    event = await asyncio.wait_for(sub.queue.get(), HEARTBEAT)
                    event_id, news = max(event_id, event.id), True
                if not news:
                    yield ": keep-alive\n\n"
        finally:
            bus.unsubscribe(sub)
