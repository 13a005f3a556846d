"""Notifications reach a real notification daemon (dunst) and its action buttons reach us."""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.desktop.conftest import dunst_history, summaries
from tests.support import components
from vms_tray.daemon import notices
from vms_tray.notify.base import Notice, NoticeKind, Notifier
from vms_tray.notify.dbus import DBusNotifier, service_available
from vms_tray.notify.log import LogNotifier
from vms_tray.session.engine import Notify, Topic

pytestmark = pytest.mark.desktop


def _bus(desktop: components.Desktop) -> str:
    return desktop.env["DBUS_SESSION_BUS_ADDRESS"]


def test_service_is_detected(desktop: components.Desktop) -> None:
    assert service_available(_bus(desktop))


def test_every_notice_arrives_with_its_text(desktop: components.Desktop) -> None:
    dunst_history(desktop)  # start from an empty screen
    notifier = DBusNotifier(bus=_bus(desktop))
    sent = [
        notices.render(Notify(Topic.NEAR_LIMIT, 4, 5), "HQ"),
        notices.render(Notify(Topic.LIMIT_FULL, 5, 5), "HQ"),
        notices.render(Notify(Topic.ENDED_ELSEWHERE, detail="OPS-PC-12 (vms-tray 1.0)"), "HQ"),
        notices.render(Notify(Topic.UNREACHABLE, detail="connection refused"), "HQ"),
        notices.render(Notify(Topic.BACK_ONLINE), "HQ"),
        notices.render(Notify(Topic.CAPTCHA), "HQ"),
    ]
    try:
        for n in sent:
            notifier.notify(n)
        assert notifier.flush(10)
        got = summaries(desktop)
    finally:
        notifier.close()
    # near_limit was replaced by limit_full, unreachable by back_online (same group, same bubble).
    for n in (sent[1], sent[2], sent[4], sent[5]):
        assert (n.title, n.body) in got
    assert (sent[0].title, sent[0].body) not in got
    assert any("OPS-PC-12" in body for _t, body in got)
    assert len(notifier.delivered) == len(sent)


def test_action_button_reaches_the_handler(desktop: components.Desktop) -> None:
    dunst_history(desktop)
    notifier = DBusNotifier(bus=_bus(desktop))
    invoked: list[str] = []
    got = threading.Event()

    def handler(action_id: str) -> None:
        invoked.append(action_id)
        got.set()

    notifier.on_action(handler)
    try:
        notifier.notify(
            notices.render(Notify(Topic.ENDED_ELSEWHERE, detail="OPS-PC-12 (vms-tray 1.0)"), "HQ")
        )
        assert notifier.flush(10)
        # dunst's "do the default action of the newest notification".
        subprocess.run(["dunstctl", "action", "0"], env=desktop.env, check=True, timeout=10)
        assert got.wait(10), "ActionInvoked never reached the handler"
    finally:
        notifier.close()
    assert invoked == [notices.SIGN_IN]


class _Recorder(Notifier):
    def __init__(self) -> None:
        super().__init__()
        self.got: list[Notice] = []

    def notify(self, notice: Notice) -> None:
        self.got.append(notice)


_BARE_BUS = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@contextlib.contextmanager
def _bare_bus(tmp_path: Path) -> Iterator[str]:
    """A session bus with no service directories: nothing can be activated on it."""
    conf = tmp_path / "bare-bus.conf"
    conf.write_text(_BARE_BUS)
    proc = subprocess.Popen(
        ["dbus-daemon", f"--config-file={conf}", "--nofork", "--print-address=1", "--nopidfile"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().decode().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def test_a_bus_without_a_service_falls_back_quietly(
    desktop: components.Desktop, tmp_path: Path
) -> None:
    with _bare_bus(tmp_path) as address:
        assert not service_available(address)
        fallback = _Recorder()
        notifier = DBusNotifier(bus=address, fallback=fallback)
        try:
            n = Notice(NoticeKind.INFO, "t", "b")
            notifier.notify(n)  # must not raise
            assert notifier.flush(15)
        finally:
            notifier.close()
        assert fallback.got == [n]


def test_a_service_that_fails_to_start_falls_back_quietly(
    desktop: components.Desktop, tmp_path: Path
) -> None:
    # dunst is activatable, but without DISPLAY it cannot start: the Notify call fails.
    env = {k: v for k, v in desktop.env.items() if k != "DISPLAY"}
    with components.dbus_session(env, tmp_path) as session:
        fallback = _Recorder()
        notifier = DBusNotifier(bus=session.address, fallback=fallback)
        try:
            n = notices.render(Notify(Topic.UNREACHABLE), "HQ")
            notifier.notify(n)
            assert notifier.flush(20)
        finally:
            notifier.close()
        assert fallback.got == [n]


def test_log_notifier_never_raises() -> None:
    LogNotifier().notify(Notice(NoticeKind.INFO, "t", "b"))
