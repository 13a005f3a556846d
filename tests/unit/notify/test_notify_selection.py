"""Choosing a notifier, the fallbacks, and the wording of the notices."""

from __future__ import annotations

import io

import pytest

from vms_tray import i18n
from vms_tray.notify import LogNotifier, NullNotifier, TrayNotifier, notices, select_notifier
from vms_tray.notify.base import Notice, NoticeKind
from vms_tray.notify.dbus import DBusNotifier, service_available


@pytest.fixture(autouse=True)
def english() -> None:
    i18n.install("en")


NOWHERE = {"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/vms-tray-test-bus"}


@pytest.mark.parametrize(
    ("value", "cls"),
    [("log", LogNotifier), ("none", NullNotifier), ("tray", TrayNotifier), ("dbus", DBusNotifier)],
)
def test_env_override(value: str, cls: type) -> None:
    n = select_notifier({**NOWHERE, "VMS_TRAY_NOTIFIER": value}, platform="linux")
    assert type(n) is cls
    n.close()


def test_linux_without_a_bus_uses_the_log(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", NOWHERE["DBUS_SESSION_BUS_ADDRESS"])
    assert not service_available()
    assert isinstance(select_notifier({}, platform="linux"), LogNotifier)


def test_other_platforms_use_the_tray_icon() -> None:
    assert isinstance(select_notifier({}, platform="win32"), TrayNotifier)
    assert isinstance(
        select_notifier({"VMS_TRAY_NOTIFIER": "bogus"}, platform="darwin"), TrayNotifier
    )


def test_tray_notifier_falls_back_until_attached_and_on_failure() -> None:
    fallback = LogNotifier()
    tn = TrayNotifier(fallback)
    n = Notice(NoticeKind.INFO, "t", "b")
    tn.notify(n)
    shown: list[tuple[str, str]] = []
    tn.attach(lambda title, body: shown.append((title, body)))
    tn.notify(n)

    def broken(_t: str, _b: str) -> None:
        raise RuntimeError("backend gone")

    tn.attach(broken)
    tn.notify(n)
    assert shown == [("t", "b")]
    assert fallback.sent == [n, n]


def test_log_notifier_writes_one_line() -> None:
    buf = io.StringIO()
    LogNotifier(stream=buf).notify(Notice(NoticeKind.INFO, "Title", "Body"))
    assert buf.getvalue() == "vms-tray: Title: Body\n"


def test_dbus_notifier_without_a_bus_hands_over_to_the_fallback() -> None:
    fallback = LogNotifier()
    n = DBusNotifier(bus=NOWHERE["DBUS_SESSION_BUS_ADDRESS"], fallback=fallback)
    notice = notices.unreachable("HQ")
    n.notify(notice)
    assert n.flush(10)
    n.close()
    assert fallback.sent == [notice]
    n.notify(notice)  # closed: ignored, no raise


def test_notice_texts_and_actions() -> None:
    assert notices.near_limit("HQ", 4, 5).body == "4 of 5 sessions are in use on HQ."
    full = notices.limit_full("HQ", 5)
    assert full.kind is NoticeKind.LIMIT_FULL and full.actions[0].id == "show_sessions"
    ended = notices.ended_elsewhere("HQ", "OPS-PC-12")
    assert "OPS-PC-12" in ended.body and ended.actions[0].id == "sign_in"
    assert "ended by the server" in notices.ended_elsewhere("HQ", None).body
    assert notices.needs_attention("HQ", "limit").actions[0].id == "show_sessions"
    assert notices.needs_attention("HQ", "captcha").actions[0].id == "sign_in"
    assert notices.back_online("HQ").kind is NoticeKind.BACK_ONLINE
    assert notices.password_rejected("HQ").actions[0].id == "sign_in"


def test_notices_are_translated() -> None:
    i18n.install("ru")
    try:
        assert notices.unreachable("HQ").title == "Сервер недоступен"
    finally:
        i18n.install("en")
