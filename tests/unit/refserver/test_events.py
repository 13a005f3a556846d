"""The event bus: per-account sequence ids, replay history, thread-safe delivery, slow streams."""

from __future__ import annotations

import asyncio
import threading

from vms_tray.refserver.events import HISTORY, QUEUE_SIZE, EventBus


def test_events_are_numbered_per_account_and_delivered_to_its_streams() -> None:
    async def main() -> None:
        bus = EventBus(asyncio.get_running_loop())
        mine, other = bus.subscribe("anna", "s1"), bus.subscribe("bob", "s9")
        first = bus.publish("anna", "sessions", "{}")
        second = bus.publish("anna", "ended", "{}", session_id="s1")
        assert bus.publish("bob", "sessions", "{}").id == 1
        assert (first.id, second.id) == (1, 2)
        got = [await asyncio.wait_for(mine.queue.get(), 1) for _ in range(2)]
        assert got == [first, second]
        assert (await asyncio.wait_for(other.queue.get(), 1)).id == 1

    asyncio.run(main())


def test_a_session_event_goes_to_that_session_only() -> None:
    async def main() -> None:
        bus = EventBus(asyncio.get_running_loop())
        a, b = bus.subscribe("anna", "s1"), bus.subscribe("anna", "s2")
        bus.publish("anna", "handover-requested", "{}", session_id="s1")
        shared = bus.publish("anna", "sessions", "{}")
        assert (await asyncio.wait_for(a.queue.get(), 1)).name == "handover-requested"
        assert await asyncio.wait_for(b.queue.get(), 1) == shared

    asyncio.run(main())


def test_replay_after_an_id_keeps_at_least_the_last_100() -> None:
    async def main() -> None:
        bus = EventBus(asyncio.get_running_loop())
        for _ in range(HISTORY + 10):
            bus.publish("anna", "sessions", "{}")
        bus.publish("anna", "queue", "{}", session_id="other")
        ids = [e.id for e in bus.replay("anna", HISTORY - 90, "s1")]
        assert ids == list(range(HISTORY - 89, HISTORY + 11))
        assert len(bus.replay("anna", 0, "s1")) >= 100

    asyncio.run(main())


def test_publish_from_a_worker_thread_reaches_the_loop() -> None:
    async def main() -> None:
        bus = EventBus(asyncio.get_running_loop())
        sub = bus.subscribe("anna", None)
        worker = threading.Thread(target=bus.publish, args=("anna", "sessions", "{}"))
        worker.start()
        await asyncio.to_thread(worker.join, 5)
        assert (await asyncio.wait_for(sub.queue.get(), 1)).name == "sessions"

    asyncio.run(main())


def test_a_slow_stream_is_closed_and_the_others_still_get_events() -> None:
    async def main() -> None:
        bus = EventBus(asyncio.get_running_loop())
        slow, fast = bus.subscribe("anna", "s1"), bus.subscribe("anna", "s2")
        for _ in range(QUEUE_SIZE + 1):
            bus.publish("anna", "sessions", "{}")
            await asyncio.wait_for(fast.queue.get(), 1)
        assert slow.closed.is_set() and not fast.closed.is_set()
        assert bus.streams() == 1

    asyncio.run(main())


def test_closing_an_ended_session_closes_only_its_streams() -> None:
    async def main() -> None:
        bus = EventBus(asyncio.get_running_loop())
        a, b = bus.subscribe("anna", "s1"), bus.subscribe("anna", "s2")
        bus.publish("anna", "ended", "{}", session_id="s1")
        bus.close_session("anna", "s1")
        await asyncio.wait_for(a.closed.wait(), 1)
        assert a.queue.qsize() == 1 and not b.closed.is_set()

    asyncio.run(main())
