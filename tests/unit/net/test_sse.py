"""The events-stream parser against the WHATWG standard's examples and edge cases."""

from __future__ import annotations

from vms_tray.net.sse import MAX_EVENT_CHARS, Event, Parser


def feed(parser: Parser, *lines: str) -> list[Event]:
    return [e for e in (parser.feed(line) for line in lines) if e is not None]


def test_named_events_with_ids_and_multi_line_data() -> None:
    p = Parser()
    got = feed(p, "retry: 3000", "id: 7", "event: sessions", 'data: {"a":', "data: 1}", "")
    assert got == [Event("sessions", '{"a":\n1}', "7")]
    assert p.retry == 3.0 and p.last_id == "7"


def test_comments_are_heartbeats_and_dispatch_nothing() -> None:
    assert feed(Parser(), ": keep-alive", "", ":", "") == []


def test_an_event_without_a_name_is_a_message_and_the_id_carries_over() -> None:
    p = Parser()
    got = feed(p, "id: 3", "data: one", "", "data:two", "")
    assert got == [Event("message", "one", "3"), Event("message", "two", "3")]


def test_an_event_without_data_is_not_dispatched_but_its_id_counts() -> None:
    p = Parser()
    assert feed(p, "event: ended", "id: 9", "") == []
    assert p.last_id == "9"


def test_unknown_fields_bad_retry_and_nul_ids_are_ignored() -> None:
    p = Parser()
    got = feed(p, "colour: red", "retry: soon", "id: a\0b", "data", "")
    assert got == [Event("message", "", None)]
    assert p.retry is None


def test_an_oversized_event_is_dropped_and_the_next_one_reads() -> None:
    p = Parser()
    big = "x" * (MAX_EVENT_CHARS // 2)
    assert feed(p, f"data: {big}", f"data: {big}", f"data: {big}", "") == []
    assert feed(p, "data: small", "") == [Event("message", "small", None)]
