from __future__ import annotations

from pathlib import Path

import pytest

from vms_tray.errors import InvalidInput
from vms_tray.refserver.storage import SessionRow, Store


def row(
    sid: str, login: str = "anna", at: float = 0.0, refresh_until: float = 10_000.0
) -> SessionRow:
    return SessionRow(sid, login, "d", "s", "1", "127.0.0.1", at, at, refresh_until)


def test_wal_and_persistence(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    s = Store(path)
    s.add_user("anna", "hash", None, 0.0)
    s.insert_session(row("s1"))
    s.insert_token("h1", "access", "s1", 100.0)
    s.close()
    s = Store(path)
    assert s._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert s.get_user("anna") is not None
    assert s.get_session("s1") == row("s1")
    token = s.get_token("h1")
    assert token is not None and token.session_id == "s1"
    s.close()


def test_duplicate_user_is_refused() -> None:
    s = Store(":memory:")
    s.add_user("anna", "h", None, 0.0)
    with pytest.raises(InvalidInput, match="already exists"):
        s.add_user("anna", "h", None, 0.0)


def test_atomic_rolls_back_on_error() -> None:
    s = Store(":memory:")
    with pytest.raises(RuntimeError), s.atomic():
        s.add_user("anna", "h", None, 0.0)
        raise RuntimeError("boom")
    assert s.get_user("anna") is None


def test_expire_picks_the_earlier_of_idle_and_refresh_expiry() -> None:
    s = Store(":memory:")
    s.insert_session(row("idle", at=0.0, refresh_until=10_000.0))
    s.insert_session(row("lapsed", at=0.0, refresh_until=500.0))
    s.insert_session(row("fresh", at=950.0))
    assert s.expire_sessions(1000.0, idle_timeout=900.0) == 2
    idle, lapsed = s.get_session("idle"), s.get_session("lapsed")
    assert idle is not None and (idle.end_reason, idle.ended_at) == ("idle_timeout", 900.0)
    assert lapsed is not None and (lapsed.end_reason, lapsed.ended_at) == ("expired", 500.0)
    assert [r.id for r in s.active_sessions("anna")] == ["fresh"]


def test_purge_drops_old_tombstones_with_their_tokens() -> None:
    s = Store(":memory:")
    s.insert_session(row("old"))
    s.insert_token("h", "refresh", "old", 100.0)
    s.end_session("old", 10.0, "logout")
    s.purge(now=50.0, tombstone_ttl=100.0)
    assert s.get_session("old") is not None
    s.purge(now=200.0, tombstone_ttl=100.0)
    assert s.get_session("old") is None and s.get_token("h") is None


def test_remove_user_removes_sessions() -> None:
    s = Store(":memory:")
    s.add_user("anna", "h", 3, 0.0)
    s.insert_session(row("s1"))
    s.insert_token("h1", "access", "s1", 100.0)
    assert s.remove_user("anna")
    assert s.get_session("s1") is None and s.get_token("h1") is None
    assert not s.remove_user("anna")


def test_rotation_is_once_only() -> None:
    s = Store(":memory:")
    s.insert_session(row("s1"))
    s.insert_token("r", "refresh", "s1", 100.0)
    assert s.mark_rotated("r", 1.0)
    assert not s.mark_rotated("r", 2.0)
