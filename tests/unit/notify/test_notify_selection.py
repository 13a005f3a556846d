"""Choosing a notifier, the fallbacks, and the wording of the notices."""

from __future__ import annotations

import io
from typing import Any

import pytest

from vms_tray import i18n
from vms_tray.daemon import notices
from vms_tray.notify import LogNotifier, NullNotifier, TrayNotifier, select_notifier
from vms_tray.notify.base import Notice, NoticeKind
from vms_tray.notify.dbus import DBusNotifier, service_available
from vms_tray.session.engine import Notify, Topic


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
    notice = notices.render(Notify(Topic.UNREACHABLE), "HQ")
    n.notify(notice)
    assert n.flush(10)
    n.close()
    assert fallback.sent == [notice]
    n.notify(notice)  # closed: ignored, no raise


def notice(topic: Topic, n: int | None = None, m: int | None = None, d: str | None = None) -> Any:
    return notices.render(Notify(topic, n, m, d), "HQ")


def test_notice_texts_and_actions() -> None:
    near = notice(Topic.NEAR_LIMIT, 2, 3)
    assert (near.title, near.body) == ("HQ: 1 seat left", "2 of 3 sessions in use")
    full = notice(Topic.LIMIT_FULL, 5, 5)
    assert full.kind is NoticeKind.LIMIT_FULL and full.actions[0].id == "show_sessions"
    assert full.title == "HQ: all seats in use"
    assert full.body == "5 of 5 sessions in use: nobody else can sign in with this account"
    ended = notice(Topic.ENDED_ELSEWHERE, d="OPS-PC-12 (vms-tray 1.0)")
    assert ended.body == "Your session was ended from OPS-PC-12 (vms-tray 1.0)"
    assert ended.actions[0].id == "sign_in"
    assert "ended by the server" in notice(Topic.ENDED_ELSEWHERE).body
    assert notice(Topic.LIMIT_CONFLICT, 1, 1).actions[0].id == "show_sessions"
    assert notice(Topic.CAPTCHA).actions[0].id == notices.SHOW_CAPTCHA
    assert notice(Topic.BACK_ONLINE).kind is NoticeKind.BACK_ONLINE
    assert notice(Topic.PASSWORD_REJECTED).actions[0].id == "sign_in"
    assert notices.password_needed("HQ").actions[0].id == "sign_in"


def test_a_rejected_password_says_what_to_do_once() -> None:
    # The detail is the server client's message, which already names the next step.
    detail = "HQ refused the login or password: check them and sign in again"
    body = notice(Topic.PASSWORD_REJECTED, d=detail).body
    assert body == detail and body.count("sign in again") == 1
    assert notice(Topic.PASSWORD_REJECTED).body.count("sign in again") == 1


def test_notices_are_translated_with_russian_plurals() -> None:
    i18n.install("ru")
    try:
        assert notice(Topic.UNREACHABLE).title == "HQ не отвечает"
        assert notices.seats(2, 3) == "Занято 2 из 3 сеансов — свободно 1 место"
        assert notices.seats(1, 21) == "Занято 1 из 21 сеанса — свободно 20 мест"
        assert notices.seats(3, 5) == "Занято 3 из 5 сеансов — свободно 2 места"
        assert notices.seats(5, 5) == "Занято 5 из 5 сеансов — свободных мест нет"
        assert [notices.seats(n, None) for n in (1, 3, 5, 21)] == [
            "1 сеанс занят (без ограничения)",
            "3 сеанса заняты (без ограничения)",
            "5 сеансов занято (без ограничения)",
            "21 сеанс занят (без ограничения)",
        ]
        ended = notice(Topic.ENDED_ELSEWHERE, d="OPS-PC-12 (vms-tray 1.0)")
        assert ended.body == "Ваш сеанс завершён с OPS-PC-12 (vms-tray 1.0)"
        assert ended.actions[0].label == "Войти"
    finally:
        i18n.install("en")
