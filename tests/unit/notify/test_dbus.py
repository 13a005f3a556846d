"""The D-Bus notifier without a desktop: no bus means the fallback, never an error (with a
real notification daemon: tests/desktop/notify/test_dbus.py)."""

from __future__ import annotations

import pytest

from vms_tray import i18n
from vms_tray.daemon import notices
from vms_tray.notify import LogNotifier
from vms_tray.notify.base import Notice, NoticeKind
from vms_tray.notify.dbus import DBusNotifier, expire_timeout, service_available
from vms_tray.session.engine import Notify, Topic

NOWHERE = {"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/vms-tray-test-bus"}


@pytest.fixture(autouse=True)
def english() -> None:
    i18n.install("en")


def test_dbus_notifier_without_a_bus_hands_over_to_the_fallback() -> None:
    fallback = LogNotifier()
    n = DBusNotifier(bus=NOWHERE["DBUS_SESSION_BUS_ADDRESS"], fallback=fallback)
    notice = notices.render(Notify(Topic.UNREACHABLE), "HQ")
    n.notify(notice)
    assert n.flush(10)
    n.close()
    assert fallback.sent == [notice]
    n.notify(notice)  # closed: ignored, no raise


@pytest.mark.parametrize(
    ("expires", "ms"), [(None, 0), (8.0, 8000), (0.0004, 1), (2.5, 2500), (20, 20000)]
)
def test_expire_timeout_in_milliseconds_zero_only_for_notices_that_stay(
    expires: float | None, ms: int
) -> None:
    """0 means "until dismissed" to the server: a notice that expires gets at least 1 ms."""
    assert expire_timeout(Notice(NoticeKind.INFO, "t", "b", expires=expires)) == ms


def test_no_service_on_a_bus_that_is_not_there() -> None:
    assert service_available(NOWHERE["DBUS_SESSION_BUS_ADDRESS"], timeout=2) is False
