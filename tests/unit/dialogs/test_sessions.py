"""The User Sessions dialog's pure parts: ordering, the recommended session, times and limits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vms_tray import i18n
from vms_tray.dialogs.sessions import (
    column_widths,
    countdown,
    ends_by_itself,
    entry_marks,
    local_time,
    order,
)
from vms_tray.text import ago, recommended  # shared with 'vms-tray sessions'


@pytest.fixture(autouse=True)
def english() -> None:
    i18n.install("en")


def s(
    i: str, started: str, activity: str, idle: bool = False, current: bool = False
) -> dict[str, object]:
    return {
        "id": i,
        "started_at": started,
        "last_activity": activity,
        "idle": idle,
        "current": current,
    }


def test_sessions_are_listed_newest_first_so_the_earliest_is_at_the_bottom() -> None:
    rows = [
        s("mid", "2026-11-27T08:00:00Z", "2026-11-27T09:00:00Z"),
        s("old", "2026-11-26T08:00:00Z", "2026-11-27T09:00:00Z"),
        s("new", "2026-11-27T09:30:00+00:00", "2026-11-27T09:40:00Z"),
    ]
    assert [r["id"] for r in order(rows)] == ["new", "mid", "old"]


def test_sessions_started_within_one_second_keep_newest_first() -> None:
    # The server lists them oldest first; to the second they tie, and still read newest first.
    rows = [s("first", "2026-11-27T08:00:00Z", "x"), s("second", "2026-11-27T08:00:00Z", "x")]
    assert [r["id"] for r in order(rows)] == ["second", "first"]


def test_recommendation_prefers_idle_then_least_recent_activity_never_ours() -> None:
    rows = [
        s("mine", "2026-11-20T00:00:00Z", "2026-11-20T00:00:00Z", current=True),
        s("busy-old", "2026-11-21T00:00:00Z", "2026-11-27T09:59:00Z"),
        s("idle-new", "2026-11-27T09:00:00Z", "2026-11-27T09:10:00Z", idle=True),
        s("idle-old", "2026-11-27T08:00:00Z", "2026-11-27T08:10:00Z", idle=True),
    ]
    assert recommended(rows) == "idle-old"
    assert recommended([r for r in rows if not r["idle"]]) == "busy-old"
    assert recommended([rows[0]]) is None


@pytest.mark.parametrize(
    ("ts", "text"),
    [
        ("2026-11-27T09:59:30Z", "just now"),
        ("2026-11-27T09:55:00Z", "5 min ago"),
        ("2026-11-27T07:00:00Z", "3 hours ago"),
        ("2026-11-20T10:00:00Z", "7 days ago"),
    ],
)
def test_ago(ts: str, text: str) -> None:
    assert ago(ts, datetime(2026, 11, 27, 10, tzinfo=UTC)) == text


def test_a_time_the_server_does_not_report_is_unknown() -> None:
    now = datetime(2026, 11, 27, 10, tzinfo=UTC)
    assert ago(None, now) == "unknown"
    assert ago("", now) == "unknown"
    assert local_time(None) == "unknown"


def test_a_time_in_the_future_reads_as_just_now() -> None:
    assert ago("2026-11-27T10:05:00Z", datetime(2026, 11, 27, 10, tzinfo=UTC)) == "just now"


def test_local_time_is_the_reported_instant_on_this_machine_clock() -> None:
    instant = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    expected = instant.astimezone().strftime("%Y-%m-%d %H:%M")
    assert local_time("2026-11-27T09:30:00Z") == expected
    assert local_time("2026-11-27T09:30:00") == expected  # no zone given: UTC


def test_an_unreadable_start_sorts_as_the_oldest() -> None:
    rows = [
        s("garbled", "yesterday-ish", "2026-11-27T09:00:00Z"),
        s("real", "2026-11-27T08:00:00Z", "2026-11-27T09:00:00Z"),
    ]
    assert [r["id"] for r in order(rows)] == ["real", "garbled"]


NOW = datetime(2026, 12, 2, 10, 0, 0, tzinfo=UTC)


def test_countdowns_read_minutes_and_seconds_and_nothing_once_past() -> None:
    assert countdown("2026-12-02T10:03:12Z", NOW) == "3:12"
    assert countdown("2026-12-02T11:00:05Z", NOW) == "1:00:05"
    assert countdown("2026-12-02T09:59:00Z", NOW) is None
    assert countdown(None, NOW) is None


def test_a_session_says_when_it_ends_by_itself_or_that_it_is_being_handed_over() -> None:
    base = s("a", "2026-12-02T08:00:00Z", "2026-12-02T09:50:00Z")
    ending = {**base, "ends_by_itself_at": "2026-12-02T10:05:00Z"}
    assert ends_by_itself(ending, NOW) == "in 5:00" and entry_marks(ending, NOW, None) == []
    handing = {**ending, "handover": {"deadline": "2026-12-02T10:00:45Z"}}
    assert entry_marks(handing, NOW, "a") == ["★ recommended", "handing over: ends in 0:45"]
    assert ends_by_itself(handing, NOW) == ""  # the handover's countdown is the one that counts
    assert ends_by_itself({**base, "ends_by_itself_at": "2026-12-02T09:00:00Z"}, NOW) == ""
    assert ends_by_itself(base, NOW) == ""  # the server does not say


def test_days_ahead_are_no_countdown_but_the_local_time() -> None:
    assert countdown("2026-12-05T10:00:00Z", NOW) is None
    late = {**s("a", "x", "y"), "ends_by_itself_at": "2026-12-05T10:00:00Z"}
    when = local_time("2026-12-05T10:00:00Z")
    assert ends_by_itself(late, NOW) == f"at {when}"


FLOOR = {"device": 140, "software": 130, "ends": 90, "marks": 160}


def test_columns_widen_to_their_cells_where_the_screen_has_room() -> None:
    needed = {"device": 300, "software": 100, "ends": 120, "marks": 250}
    assert column_widths(FLOOR, needed, FLOOR, 2000) == {
        "device": 300,
        "software": 130,  # never narrower than it is
        "ends": 120,
        "marks": 250,
    }


def test_on_a_narrow_screen_the_device_gives_way_before_the_marks() -> None:
    needed = {"device": 400, "software": 100, "ends": 120, "marks": 300}
    got = column_widths(FLOOR, needed, FLOOR, 800)
    assert got["marks"] == 300 and got["ends"] == 120  # what the choice rests on: whole
    assert got["device"] == 800 - 130 - 120 - 300
    # Narrower still: the device stops at its first width, then the others give way in turn.
    assert column_widths(FLOOR, needed, FLOOR, 640) == {
        "device": 140,
        "software": 130,
        "ends": 90,
        "marks": 280,
    }
    assert column_widths(FLOOR, needed, FLOOR, 500) == FLOOR  # no narrower than first drawn
