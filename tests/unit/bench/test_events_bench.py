"""The pure helpers of bench/events_bench.py: what it parses and how it counts."""

from __future__ import annotations

from bench.events_bench import (
    SseSplitter,
    expected_per_hour,
    per_hour,
    quantile,
    ratio,
    requests_by_endpoint,
    table,
)


def test_events_are_split_as_they_arrive_in_pieces() -> None:
    sse = SseSplitter()
    assert sse.feed(b"retry: 3000\n\n") == []  # no data: no event
    assert sse.feed(b'id: 4\nevent: sessions\ndata: {"a"') == []
    assert sse.feed(b": 1}\n\n: keep-alive\n\nevent: ended\r\ndata: x\r\ndata: y\r\n\r\n") == [
        ("sessions", '{"a": 1}'),
        (":", "keep-alive"),
        ("ended", "x\ny"),
    ]
    assert sse.feed(b"data: plain\n") == []
    assert sse.feed(b"\n") == [("message", "plain")]


def test_quantiles_are_nearest_rank_never_beyond_what_was_seen() -> None:
    values = [0.5, 0.1, 0.4, 0.2, 0.3]
    assert quantile(values, 0.5) == 0.3
    assert quantile(values, 0.99) == 0.5 == quantile(values, 1.0)
    assert quantile(list(range(1, 101)), 0.99) == 99
    assert quantile([], 0.5) != quantile([], 0.5)  # nan


def test_requests_are_counted_by_endpoint_with_session_ids_folded() -> None:
    line = 'x INFO daemon httpx: HTTP Request: {} https://127.0.0.1:1/api/v1/{} "HTTP/1.1 200 OK"'
    log = "\n".join(
        [
            line.format("GET", "sessions"),
            line.format("POST", "sessions/refresh"),
            line.format("GET", "events"),
            line.format("DELETE", "sessions/a-B_9"),
            line.format("GET", "sessions/current"),
            "x DEBUG daemon vms_tray.net.http: GET /sessions -> 200",
        ]
    )
    assert requests_by_endpoint(log) == {
        "GET /api/v1/sessions": 1,
        "POST /api/v1/sessions/refresh": 1,
        "GET /api/v1/events": 1,
        "DELETE /api/v1/sessions/{id}": 1,
        "GET /api/v1/sessions/current": 1,
    }


def test_per_hour_figures() -> None:
    assert per_hour(2, 120) == 60
    assert expected_per_hour(60, 300, streaming=False) == {"polls": 60, "refreshes": 20}
    live = expected_per_hour(600, 300, streaming=True)
    assert live["polls"] == 6 and live["stream reconnects (at most)"] == 20
    assert ratio(1, 4) == "0.25x" and ratio(1, 0) == "-"


def test_table_pads_columns() -> None:
    assert table([["a", "bb"], ["ccc", "d"]]).splitlines() == ["   a    bb", "   ccc   d"]
