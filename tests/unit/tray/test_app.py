"""TrayApp wiring: menu intents become daemon commands or dialogs; snapshots re-render; the
daemon's show and stop requests reach the tray. The doubles are in ``fakes``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.components import wait_until
from tests.unit.tray.fakes import (
    SERVERS,
    SIGNED_IN,
    FakeDaemon,
    FakeLauncher,
    RecordingIcon,
    World,
    session_entry,
)
from vms_tray import commands, i18n
from vms_tray.assets import IconName
from vms_tray.session.records import Limit, SessionList
from vms_tray.session.snapshot import Snapshot, State
from vms_tray.tray.app import TrayApp
from vms_tray.tray.view import Intent


def test_start_renders_the_current_snapshot(world: World) -> None:
    _app, daemon, icon, _l, _a = world
    assert icon.views[-1].icon is IconName.SIGNED_IN
    daemon.push(Snapshot(state=State.RECONNECTING, server="HQ"))
    assert [v.icon for v in icon.views[-1:]] == [IconName.OFFLINE]


@pytest.mark.parametrize(
    ("intent", "arg", "expected"),
    [
        (Intent.SIGN_OUT, None, commands.SignOut()),
        (Intent.CANCEL_WAIT, None, commands.CancelWait()),
        (Intent.QUIT, None, commands.Quit()),
    ],
)
def test_menu_intents_post_commands(
    world: World, intent: Intent, arg: str | None, expected: object
) -> None:
    app, daemon, icon, _l, _a = world
    app.on_intent(intent, arg)
    assert app.drain()
    assert daemon.posted == [expected]
    if intent is Intent.QUIT:
        assert icon.stopped


def test_switching_to_the_current_server_does_nothing(world: World) -> None:
    app, daemon, *_ = world
    app.on_intent(Intent.SWITCH_SERVER, "HQ")
    assert app.drain()
    assert daemon.posted == []


def test_start_at_login_toggles_the_backend_and_the_check_mark(world: World) -> None:
    app, _d, icon, _l, autostart = world
    app.on_intent(Intent.TOGGLE_AUTOSTART)
    assert app.drain()
    assert autostart.on
    entry = icon.views[-1].find("toggle_autostart")
    assert entry is not None and entry.checked is True
    app.on_intent(Intent.TOGGLE_AUTOSTART)
    assert app.drain()
    assert not autostart.on
    entry = icon.views[-1].find("toggle_autostart")
    assert entry is not None and entry.checked is False


def test_notification_buttons_route_to_dialogs(world: World) -> None:
    app, daemon, _i, launcher, _a = world
    daemon.session_value = SessionList(Limit("user", 5, 3), ())
    app.on_notice_action("show_sessions")
    app.on_notice_action("nonsense")
    assert app.drain()
    # Listing sessions may wait on the server, so it runs beside the action worker.
    wait_until(lambda: bool(launcher.opened), 5, "the sessions dialog")
    assert [n for n, *_ in launcher.opened] == ["sessions"]


def test_open_log_folder_creates_and_opens_it(world: World, isolated_profile: Path) -> None:
    app, *_ = world
    opened: list[str] = []
    app.open_folder = opened.append
    app.on_intent(Intent.OPEN_LOG)
    assert app.drain()
    assert opened == [str(isolated_profile / "log")]
    assert (isolated_profile / "log").is_dir()


def test_popup_answer_dispatches_the_chosen_entry(world: World) -> None:
    app, _d, _i, launcher, _a = world
    app.on_popup()
    assert app.drain()
    request, on_answer, _e = launcher.last("menu")
    assert request["items"][0]["key"] == "status"
    on_answer({"action": "select", "key": "switch_server:Branch"})
    assert app.drain()
    assert launcher.last("login")[0]["server"] == "Branch"  # no stored password: ask first


def test_daemon_show_requests_open_the_right_dialog(isolated_profile: Path) -> None:
    i18n.install("en")
    daemon = FakeDaemon(SIGNED_IN)
    shows = daemon.shows
    daemon.conflict_value = SessionList(Limit("user", 1, 1), (session_entry("z"),))
    launcher = FakeLauncher()
    app = TrayApp(
        daemon,
        icon_factory=lambda _i, _p: RecordingIcon(),
        launcher=launcher,
        autostart=None,
    )
    app.start()
    try:
        assert len(shows) == 1
        daemon.push(Snapshot(state=State.LIMIT_REACHED, server="HQ", servers=SERVERS))
        shows[0]("show_sessions")
        shows[0]("window")  # a second 'vms-tray run': the status action (here: sessions)
        assert app.drain()
        names = [n for n, *_ in launcher.opened]
        assert names[0] == "sessions"
        request, *_ = launcher.last("sessions")
        assert [s["id"] for s in request["sessions"]] == ["z"]
    finally:
        app.jobs.shutdown()


def test_with_the_real_daemon_the_start_up_password_request_and_quit_reach_the_tray(
    isolated_profile: Path,
) -> None:
    from tests.unit.daemon.fakes import Sim

    i18n.install("en")
    sim = Sim(passwords={})
    sim.start()  # asks for a password before the tray listens (the real start-up order)
    launcher = FakeLauncher()
    icon = RecordingIcon()
    app = TrayApp(
        sim.daemon,
        icon_factory=lambda _i, _p: icon,
        launcher=launcher,
        autostart=None,
    )
    app.start()
    try:
        assert app.drain()
        assert [n for n, *_ in launcher.opened] == ["login"]  # replayed by the daemon
        sim.daemon.post(commands.Quit())  # e.g. 'vms-tray quit' over the control socket
        sim.settle()
        assert sim.daemon.stopped
        wait_until(lambda: icon.stopped, 5, "the tray icon to stop with the daemon")
    finally:
        app.jobs.shutdown()


@pytest.mark.parametrize("icon_can_notify", [True, False])
def test_icon_notices_get_the_icons_notify_when_it_can_show_them(
    isolated_profile: Path, icon_can_notify: bool
) -> None:
    icon = RecordingIcon()
    icon.has_notification = icon_can_notify
    attached: list[Callable[[str, str], None]] = []
    app = TrayApp(
        FakeDaemon(SIGNED_IN),
        icon_factory=lambda _i, _p: icon,
        launcher=FakeLauncher(),
        autostart=None,
        icon_notices=attached.append,
    )
    app.start()
    try:
        assert attached == ([icon.notify] if icon_can_notify else [])
    finally:
        app.jobs.shutdown()


def test_a_daemon_that_stopped_before_the_icon_was_up_stops_the_tray(
    isolated_profile: Path,
) -> None:
    daemon = FakeDaemon(SIGNED_IN)
    daemon.stopped = True
    icon = RecordingIcon()
    app = TrayApp(daemon, icon_factory=lambda _i, _p: icon, launcher=FakeLauncher(), autostart=None)
    app.start()
    try:
        wait_until(lambda: icon.stopped, 5, "the tray icon to stop")
        assert daemon.posted == [commands.Quit()]
    finally:
        app.jobs.shutdown()


def test_forced_start_at_login_is_ticked_greyed_and_not_turned_off(
    world: World, isolated_profile: Path
) -> None:
    app, _d, icon, _l, autostart = world
    policy = isolated_profile / "system" / "policy.toml"
    policy.parent.mkdir(parents=True)
    policy.write_text("force_autostart = true\n", encoding="utf-8")
    autostart.on = True
    app.on_intent(Intent.TOGGLE_AUTOSTART)  # the popup menu of an older view, or a race
    assert app.drain()
    assert autostart.on
    entry = icon.views[-1].find("toggle_autostart")
    assert entry is not None and entry.checked is True and entry.enabled is False
    assert entry.text == "Start at login (required by your administrator)"
