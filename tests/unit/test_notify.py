"""Choosing a notifier: the VMS_TRAY_NOTIFIER override, D-Bus on Linux when a service is there,
the log without one, the tray icon elsewhere."""

from __future__ import annotations

import logging

import pytest

from vms_tray.notify import LogNotifier, NullNotifier, TrayNotifier, select_notifier
from vms_tray.notify.base import Notice, NoticeKind
from vms_tray.notify.dbus import DBusNotifier, service_available

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


def test_an_unknown_choice_is_ignored_and_one_is_chosen(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        chosen = select_notifier({**NOWHERE, "VMS_TRAY_NOTIFIER": " Popup "}, platform="linux")
    assert isinstance(chosen, LogNotifier)  # no bus on Linux: the log
    assert "VMS_TRAY_NOTIFIER=popup is not one of" in caplog.text


def test_the_choice_is_read_in_any_case() -> None:
    assert isinstance(
        select_notifier({"VMS_TRAY_NOTIFIER": " NONE "}, platform="linux"), NullNotifier
    )


def test_the_null_notifier_shows_nothing_and_never_fails() -> None:
    null = NullNotifier()
    null.notify(Notice(NoticeKind.INFO, "t", "b", topic="seats"))
    null.withdraw("seats")
    null.close()
    assert null.name == "none"
