"""Notices shown by the tray icon itself: the log until the icon is attached or when it fails,
one notice at a time, withdrawn by topic, removed when it expires."""

from __future__ import annotations

import threading

from vms_tray.notify import LogNotifier, TrayNotifier
from vms_tray.notify.base import Notice, NoticeKind


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


class _Icon:
    def __init__(self) -> None:
        self.events: list[str] = []

    def notify(self, title: str, body: str) -> None:
        self.events.append(f"show {title}")

    def remove_notification(self) -> None:
        self.events.append("remove")


def test_tray_notifier_withdraws_its_topic_and_all() -> None:
    icon = _Icon()
    tn = TrayNotifier()
    tn.attach(icon.notify)  # the icon's remove_notification is found next to it
    tn.notify(Notice(NoticeKind.INFO, "a", "b", topic="seats"))
    tn.withdraw("network")  # not the one shown
    tn.withdraw("seats")
    tn.withdraw("seats")  # already gone
    tn.notify(Notice(NoticeKind.INFO, "c", "d", topic="sign_in"))
    tn.close()
    assert icon.events == ["show a", "remove", "show c", "remove"]


def test_tray_notifier_removes_an_expired_notice() -> None:

    removed = threading.Event()
    tn = TrayNotifier()
    tn.attach(lambda _t, _b: None, removed.set)
    tn.notify(Notice(NoticeKind.INFO, "a", "b", topic="seats", expires=0.05))
    assert removed.wait(5)
