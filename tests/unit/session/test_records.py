"""What a server tells us, as values: the JSON shape of sessions, and tokens that never show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from vms_tray.session.records import Handover, Limit, SessionEntry, SessionList, Tokens

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def entry(**kw: object) -> SessionEntry:
    values: dict[str, object] = {
        "id": "s1",
        "device": "OPS-PC-12",
        "software": "vms-tray",
        "version": "1.0",
        "address": "10.0.0.2",
        "started_at": AT,
        "last_activity": AT + timedelta(minutes=5),
        "idle": False,
        "current": True,
    }
    values.update(kw)
    return SessionEntry(**values)  # type: ignore[arg-type]


def test_a_session_in_the_protocols_json_shape() -> None:
    assert entry().to_json() == {
        "id": "s1",
        "device": "OPS-PC-12",
        "software": "vms-tray",
        "version": "1.0",
        "address": "10.0.0.2",
        "started_at": "2026-03-01T09:30:00Z",
        "last_activity": "2026-03-01T09:35:00Z",
        "idle": False,
        "current": True,
        "ends_by_itself_at": None,
        "handover": None,
    }


def test_protocol_v1_1_estimates_and_handover_in_the_json_shape() -> None:
    shown = entry(ends_by_itself_at=AT, handover=Handover(AT, "OPS-PC-13")).to_json()
    assert shown["ends_by_itself_at"] == "2026-03-01T09:30:00Z"
    assert shown["handover"] == {
        "deadline": "2026-03-01T09:30:00Z",
        "requested_by": {"device": "OPS-PC-13"},
    }
    listing = SessionList(Limit("account", 1, 1, next_free_at=AT, held=1), ()).to_json()
    assert listing["limit"]["next_free_at"] == "2026-03-01T09:30:00Z"
    assert listing["limit"]["held"] == 1


def test_times_are_written_in_utc_whatever_zone_they_came_in() -> None:
    moscow = timezone(timedelta(hours=3))
    shown = entry(started_at=datetime(2026, 3, 1, 12, 30, tzinfo=moscow)).to_json()
    assert shown["started_at"] == "2026-03-01T09:30:00Z"


def test_a_session_list_in_the_shape_of_get_sessions() -> None:
    listing = SessionList(Limit("account", 3, 2), (entry(), entry(id="s2", current=False)))
    shown = listing.to_json()
    assert shown["limit"] == {"scope": "account", "max": 3, "active": 2}
    assert [s["id"] for s in shown["sessions"]] == ["s1", "s2"]
    assert [s["current"] for s in shown["sessions"]] == [True, False]
    assert SessionList(Limit("account", None, 0), ()).to_json() == {
        "limit": {"scope": "account", "max": None, "active": 0},
        "sessions": [],
    }


def test_tokens_never_show_in_their_repr() -> None:
    tokens = Tokens("access-secret-123", 300, "refresh-secret-456", 3600, "s1")
    shown = repr(tokens)
    assert "access-secret-123" not in shown and "refresh-secret-456" not in shown
    assert "s1" in shown and "300" in shown
