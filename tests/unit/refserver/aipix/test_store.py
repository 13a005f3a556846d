"""The AIPIX table beside the reference store: each session's X-UUID and token id."""

from __future__ import annotations

from vms_tray.refserver.aipix.store import AipixSession, AipixStore
from vms_tray.refserver.storage import SessionRow


def _session(sid: str, login: str = "anna") -> SessionRow:
    return SessionRow(sid, login, "ua", "web", "24.03", "10.0.0.1", 1.0, 1.0, 1e12)


def test_extras_and_the_sessions_of_a_device() -> None:
    store = AipixStore(":memory:")
    store.add_user("anna", "hash", None, 0.0)
    for sid, uuid in (("a", "u1"), ("b", "u2"), ("c", "u1")):
        store.insert_session(_session(sid))
        store.insert_extra(AipixSession(sid, uuid, "t" * 80))
    assert store.session_extra("a") == AipixSession("a", "u1", "t" * 80)
    assert store.session_extra("zz") is None
    assert sorted(store.sessions_of_device("anna", "u1")) == ["a", "c"]
    store.end_session("a", 2.0, "logout")
    assert store.sessions_of_device("anna", "u1") == ["c"]
    assert store.sessions_of_device("bob", "u1") == []
    store.close()
