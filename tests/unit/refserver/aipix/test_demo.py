"""The AIPIX demo server: a fresh demo account, both seats held by a phone and a browser."""

from __future__ import annotations

from pathlib import Path

from vms_tray.refserver.aipix.demo import DEMO_SEATS, start_aipix_demo


def test_the_demo_server_has_both_seats_taken_at_every_start(tmp_path: Path) -> None:
    demo = start_aipix_demo(tmp_path / "server", idle_timeout=60)
    try:
        assert "pw" not in repr(demo) and demo.password not in repr(demo)
        store = demo.handle.service.store
        assert [s.software for s in store.active_sessions("demo")] == ["android", "web"]
        assert demo.handle.service.config.captcha
    finally:
        demo.stop()
    again = start_aipix_demo(tmp_path / "server", idle_timeout=60)  # a restart starts afresh
    try:
        assert len(again.handle.service.store.active_sessions("demo")) == DEMO_SEATS
    finally:
        again.stop()
