"""Notifications reach a real notification daemon (dunst) and its action buttons reach us."""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.desktop.conftest import dunst_history
from tests.support import components
from vms_tray.daemon import notices
from vms_tray.notify.base import Notice, NoticeKind, Notifier
from vms_tray.notify.dbus import DBusNotifier, service_available
from vms_tray.session.engine import Notify, Topic

pytestmark = pytest.mark.desktop


def _bus(desktop: components.Desktop) -> str:
    return desktop.env["DBUS_SESSION_BUS_ADDRESS"]


def test_service_is_detected(desktop: components.Desktop) -> None:
    assert service_available(_bus(desktop))


def _count(desktop: components.Desktop, what: str) -> int:
    out = subprocess.run(
        ["dunstctl", "count", what],
        env=desktop.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    )
    return int(out.stdout.strip())


def _on_screen(desktop: components.Desktop) -> int:
    """Notices dunst shows or holds back for want of room: everything not closed."""
    return _count(desktop, "displayed") + _count(desktop, "waiting")


def _closed(desktop: components.Desktop) -> dict[int, dict[str, Any]]:
    """dunst's history by id, without closing anything: what was withdrawn, dismissed or
    expired. A replaced notice never gets there."""
    out = subprocess.run(
        ["dunstctl", "history"],
        env=desktop.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    )
    data = json.loads(out.stdout)["data"]
    return {n["id"]["data"]: n for n in (data[0] if data else [])}


def _shown(desktop: components.Desktop, ids: list[int]) -> list[dict[str, str]]:
    """What dunst's script logged for our notices (urgency and timeout, which history lacks)."""
    wanted = {str(i) for i in ids}
    return [n for n in desktop.dunst_shown() if n["id"] in wanted]


@pytest.fixture
def notifier(desktop: components.Desktop) -> Iterator[DBusNotifier]:
    dunst_history(desktop)  # start from an empty screen
    assert _on_screen(desktop) == 0
    n = DBusNotifier(bus=_bus(desktop))
    yield n
    n.close()


def _render(
    topic: Topic, n: int | None = None, m: int | None = None, d: str | None = None
) -> Notice:
    return notices.render(Notify(topic, n, m, d), "HQ")


def test_one_notice_per_topic_each_replacing_its_predecessor(
    desktop: components.Desktop, notifier: DBusNotifier
) -> None:
    sent = [
        _render(Topic.NEAR_LIMIT, 4, 5),
        _render(Topic.LIMIT_FULL, 5, 5),  # replaces "1 seat left" (seats)
        _render(Topic.UNREACHABLE, d="connection refused"),
        _render(Topic.BACK_ONLINE),  # replaces "does not answer" (network)
        _render(Topic.CAPTCHA),
        _render(Topic.LIMIT_CONFLICT, 3, 3),  # replaces "captcha required" (sign-in)
        _render(Topic.ENDED_ELSEWHERE, d="OPS-PC-12 (vms-tray 1.0)"),
    ]
    for n in sent:
        notifier.notify(n)
    assert notifier.flush(10)
    assert len(notifier.delivered) == len(sent)
    assert set(notifier.shown()) == {"seats", "network", "sign_in", "session"}
    assert _on_screen(desktop) == 4
    ids = sorted(set(notifier.delivered))
    assert len(ids) == 4  # dunst kept each topic's id for its replacement

    got = {(n["summary"]["data"], n["body"]["data"]): n for n in dunst_history(desktop)}
    for n in (sent[1], sent[3], sent[5], sent[6]):
        assert (n.title, n.body) in got
    for n in (sent[0], sent[2], sent[4]):
        assert (n.title, n.body) not in got
    # Each carries the icon of the state it reports, not the app's green one.
    icons = {title: Path(n["icon_path"]["data"]).name for (title, _b), n in got.items()}
    assert icons["HQ: all seats in use"] == "signed-in-full.png"
    assert icons["HQ answers again"] == "signed-in.png"
    assert icons["HQ: no free session"] == "limit-reached.png"
    assert icons["HQ: signed out"] == "signed-out.png"


def test_urgency_and_expiry_as_dunst_sees_them(
    desktop: components.Desktop, notifier: DBusNotifier
) -> None:
    cases = [
        (_render(Topic.ENDED_ELSEWHERE, d="OPS-PC-12 (vms-tray 1.0)"), "CRITICAL", "0"),
        (_render(Topic.LIMIT_CONFLICT, 3, 3), "CRITICAL", "0"),
        (_render(Topic.NEAR_LIMIT, 2, 3), "NORMAL", "20000"),
        (_render(Topic.BACK_ONLINE), "LOW", "8000"),
    ]
    for notice, _u, _t in cases:
        notifier.notify(notice)
    assert notifier.flush(10)
    components.wait_until(
        lambda: len(_shown(desktop, notifier.delivered)) == len(cases), 10, "dunst's script"
    )
    seen = {n["summary"]: (n["urgency"], n["timeout"]) for n in _shown(desktop, notifier.delivered)}
    assert seen == {n.title: (u, t) for n, u, t in cases}


def test_withdraw_takes_back_its_topic_only(
    desktop: components.Desktop, notifier: DBusNotifier
) -> None:
    notifier.notify(_render(Topic.CAPTCHA))
    notifier.notify(_render(Topic.NEAR_LIMIT, 2, 3))
    notifier.notify(_render(Topic.UNREACHABLE, d="connection refused"))
    assert notifier.flush(10)
    captcha = notifier.shown()["sign_in"]
    assert _on_screen(desktop) == 3
    notifier.withdraw("sign_in")
    notifier.withdraw("session")  # nothing on it: nothing happens
    assert notifier.flush(10)
    assert _on_screen(desktop) == 2
    assert captcha in _closed(desktop)
    assert set(notifier.shown()) == {"seats", "network"}
    # A new notice on the withdrawn topic is a new bubble, not a replacement of a closed one.
    notifier.notify(_render(Topic.LIMIT_CONFLICT, 3, 3))
    assert notifier.flush(10)
    assert _on_screen(desktop) == 3 and notifier.shown()["sign_in"] != captcha


def test_withdraw_all_and_close_leave_nothing_on_screen(
    desktop: components.Desktop, notifier: DBusNotifier
) -> None:
    notifier.notify(_render(Topic.CAPTCHA))
    notifier.notify(_render(Topic.LIMIT_FULL, 3, 3))
    assert notifier.flush(10)
    assert _on_screen(desktop) == 2
    notifier.withdraw_all()
    assert notifier.flush(10)
    assert _on_screen(desktop) == 0 and notifier.shown() == {}
    notifier.notify(_render(Topic.ENDED_ELSEWHERE, d="OPS-PC-12 (vms-tray 1.0)"))
    notifier.notify(_render(Topic.UNREACHABLE, d="connection refused"))
    assert notifier.flush(10)
    assert _on_screen(desktop) == 2
    notifier.close()  # quit: the notices go with the process
    assert _on_screen(desktop) == 0
    delivered, shown = list(notifier.delivered), len(desktop.dunst_shown())
    late = _render(Topic.CAPTCHA)
    notifier.notify(late)  # after close: ignored, no raise
    notifier.withdraw_all()
    # Another notifier's notice, once dunst has shown it, bounds the wait for a stray one.
    witness = DBusNotifier(bus=_bus(desktop))
    try:
        witness.notify(_render(Topic.BACK_ONLINE))
        assert witness.flush(10)
        components.wait_until(
            lambda: len(_shown(desktop, witness.delivered)) == 1, 10, "dunst's script"
        )
    finally:
        witness.close()
    assert notifier.delivered == delivered and notifier.shown() == {}
    after = [n["summary"] for n in desktop.dunst_shown()[shown:]]
    assert after == [_render(Topic.BACK_ONLINE).title] and late.title not in after


def test_an_expired_notice_is_forgotten(
    desktop: components.Desktop, notifier: DBusNotifier
) -> None:
    notice = replace(_render(Topic.BACK_ONLINE), expires=0.3)
    notifier.notify(notice)
    assert notifier.flush(10)
    assert "network" in notifier.shown()
    # dunst closes it and says so (NotificationClosed); the topic is free again.
    components.wait_until(lambda: not notifier.shown(), 10, "the notice to expire")
    assert _on_screen(desktop) == 0


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
