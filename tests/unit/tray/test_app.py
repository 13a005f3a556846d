"""TrayApp wiring: menu intents and dialog answers become daemon commands; snapshots re-render.

Doubles at the boundary only: a recording icon (instead of pystray), a fake daemon (snapshot,
subscribe, post) and a launcher that records dialog requests and lets the test answer them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.components import wait_until
from vms_tray import commands, i18n
from vms_tray.config import ConnectionList, ConnectionStore
from vms_tray.servers.base import Captcha, Limit, SessionEntry, SessionList
from vms_tray.session.snapshot import ServerChoice, Snapshot, State
from vms_tray.tray.app import TrayApp
from vms_tray.tray.view import IconName, Intent, TrayView


class RecordingIcon:
    has_menu = True
    has_notification = False
    backend = "test"

    def __init__(self) -> None:
        self.views: list[TrayView] = []
        self.stopped = False

    def show(self, view: TrayView) -> None:
        self.views.append(view)

    def run(self, ready: Callable[[], None] | None = None) -> None:
        if ready:
            ready()

    def stop(self) -> None:
        self.stopped = True

    def notify(self, title: str, message: str) -> None:
        raise AssertionError("not used")


class FakeDaemon:
    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self.posted: list[commands.Command] = []
        self.subscribers: list[Callable[[Snapshot], None]] = []
        self.captcha_value: Captcha | None = None
        self.session_value: SessionList | None = None

    def snapshot(self) -> Snapshot:
        return self.snap

    def subscribe(self, cb: Callable[[Snapshot], None]) -> None:
        self.subscribers.append(cb)

    def post(self, command: commands.Command) -> None:
        self.posted.append(command)

    def push(self, snap: Snapshot) -> None:
        self.snap = snap
        for cb in self.subscribers:
            cb(snap)

    def captcha(self) -> Captcha | None:
        return self.captcha_value

    def sessions(self) -> SessionList | None:
        return self.session_value


class FakeHandle:
    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.closed = False

    def send_update(self, update: dict[str, Any]) -> bool:
        self.updates.append(update)
        return True

    def close(self, timeout: float = 5.0) -> None:
        self.closed = True


class FakeLauncher:
    def __init__(self) -> None:
        self.opened: list[tuple[str, dict[str, Any], Any, Any]] = []
        self.handles: dict[str, FakeHandle] = {}

    def open(
        self, name: str, request: dict[str, Any], on_answer: Any, on_event: Any = None
    ) -> FakeHandle:
        self.opened.append((name, request, on_answer, on_event))
        self.handles[name] = FakeHandle()
        return self.handles[name]

    def current(self, name: str) -> FakeHandle | None:
        return self.handles.get(name)

    def close_all(self, timeout: float = 5.0) -> None:
        pass

    def last(self, name: str) -> tuple[dict[str, Any], Any, Any]:
        for n, req, ans, ev in reversed(self.opened):
            if n == name:
                return req, ans, ev
        raise AssertionError(f"{name} dialog was never opened")


class FakeAutostart:
    def __init__(self) -> None:
        self.on = False

    def is_enabled(self) -> bool:
        return self.on

    def enable(self) -> None:
        self.on = True

    def disable(self) -> bool:
        self.on = False
        return True


SERVERS = (ServerChoice("HQ", True, "native"), ServerChoice("Branch", False, "native"))
SIGNED_IN = Snapshot(
    state=State.SIGNED_IN,
    server="HQ",
    login="op",
    sessions_in_use=3,
    max_sessions=5,
    servers=SERVERS,
)


@pytest.fixture
def world(
    isolated_profile: Path,
) -> Iterator[tuple[TrayApp, FakeDaemon, RecordingIcon, FakeLauncher, FakeAutostart]]:
    i18n.install("en")
    daemon = FakeDaemon(SIGNED_IN)
    icon = RecordingIcon()
    launcher = FakeLauncher()
    autostart = FakeAutostart()
    opened: list[str] = []
    app = TrayApp(
        daemon,
        icon_factory=lambda _i, _p: icon,
        launcher=launcher,  # type: ignore[arg-type]
        autostart=autostart,
        open_folder=opened.append,
    )
    app.start()
    app.opened_folders = opened  # type: ignore[attr-defined]
    yield app, daemon, icon, launcher, autostart
    app._shutdown_worker()


def test_start_renders_the_current_snapshot(world: Any) -> None:
    _app, daemon, icon, _l, _a = world
    assert icon.views[-1].icon is IconName.SIGNED_IN
    daemon.push(Snapshot(state=State.RECONNECTING, server="HQ"))
    assert [v.icon for v in icon.views[-1:]] == [IconName.OFFLINE]


@pytest.mark.parametrize(
    ("intent", "arg", "expected"),
    [
        (Intent.SIGN_OUT, None, commands.SignOut()),
        (Intent.SWITCH_SERVER, "Branch", commands.SwitchServer("Branch")),
        (Intent.CANCEL_WAIT, None, commands.CancelWait()),
        (Intent.QUIT, None, commands.Quit()),
    ],
)
def test_menu_intents_post_commands(
    world: Any, intent: Intent, arg: str | None, expected: object
) -> None:
    app, daemon, icon, _l, _a = world
    app.on_intent(intent, arg)
    assert app.drain()
    assert daemon.posted == [expected]
    if intent is Intent.QUIT:
        assert icon.stopped


def test_switching_to_the_current_server_does_nothing(world: Any) -> None:
    app, daemon, *_ = world
    app.on_intent(Intent.SWITCH_SERVER, "HQ")
    assert app.drain()
    assert daemon.posted == []


def test_sign_in_dialog_answer_posts_sign_in_with_the_password(world: Any) -> None:
    app, daemon, _i, launcher, _a = world
    ConnectionStore().update(lambda lst: lst.add("HQ", "hq.example.com", "op"))
    daemon.push(Snapshot(state=State.SIGNED_OUT, servers=SERVERS))
    app.on_intent(Intent.STATUS)  # left click while signed out
    assert app.drain()
    request, on_answer, _ev = launcher.last("login")
    assert [s["name"] for s in request["servers"]] == ["HQ"]
    assert request["language"] == "en"
    on_answer(
        {
            "action": "login",
            "server": "HQ",
            "login": "op",
            "password": "pw",
            "remember": True,
            "trust_fingerprint": None,
        }
    )
    assert daemon.posted == [commands.SignIn(server="HQ", login="op", password="pw", remember=True)]
    # The password never shows in a logged command.
    assert "pw" not in repr(daemon.posted[0])


def test_a_failed_sign_in_reopens_the_dialog_with_the_error(world: Any) -> None:
    app, daemon, _i, launcher, _a = world
    app._login_answered({"action": "login", "server": "HQ", "login": "op", "password": "bad"})
    daemon.push(Snapshot(state=State.SIGNING_IN, server="HQ"))
    daemon.push(Snapshot(state=State.ERROR, server="HQ", last_error="wrong login or password"))
    assert app.drain()
    request, _a2, _e = launcher.last("login")
    assert request["error"]["kind"] == "credentials"


def test_trusting_a_certificate_pins_it_in_the_config(world: Any) -> None:
    app, daemon, *_ = world
    ConnectionStore().update(lambda lst: lst.add("HQ", "hq.example.com", "op"))
    fp = ":".join(["AB"] * 32)
    app._login_answered(
        {
            "action": "login",
            "server": "HQ",
            "login": "op",
            "password": "pw",
            "trust_fingerprint": fp,
        }
    )
    conn = ConnectionStore().load().get("HQ")
    assert conn.trust.mode == "pinned" and conn.trust.pin_sha256 == fp
    assert daemon.posted[0] == commands.ReloadConfig()
    assert isinstance(daemon.posted[1], commands.SignIn)


def test_captcha_dialog_answer_refresh_and_new_picture(world: Any) -> None:
    app, daemon, _i, launcher, _a = world
    daemon.captcha_value = Captcha("c1", b"\x89PNG-1", 60)
    app._login_answered({"action": "login", "server": "HQ", "login": "op", "password": "pw"})
    daemon.push(Snapshot(state=State.CAPTCHA_REQUIRED, server="HQ"))
    assert app.drain()
    request, on_answer, on_event = launcher.last("captcha")
    assert request["expires_in"] == 60
    on_event({"event": "refresh", "expired": True})
    assert daemon.posted[-1] == commands.RefreshCaptcha()
    daemon.captcha_value = Captcha("c2", b"\x89PNG-2", 60)
    daemon.push(Snapshot(state=State.CAPTCHA_REQUIRED, server="HQ", last_error=None, expires_in=59))
    assert app.drain()
    assert launcher.handles["captcha"].updates, "the open dialog got the new picture"
    on_answer({"action": "answer", "answer": "K7WQ2"})
    assert daemon.posted[-1] == commands.AnswerCaptcha("K7WQ2")


def _entry(i: str, current: bool = False) -> SessionEntry:
    t = datetime(2026, 11, 27, 8, tzinfo=UTC)
    return SessionEntry(i, f"PC-{i}", "VMS", "5", "10.0.0.1", t, t, False, current)


def test_limit_conflict_opens_sessions_and_end_or_wait_post_commands(world: Any) -> None:
    app, daemon, _i, launcher, _a = world
    daemon.session_value = SessionList(Limit("user", 2, 2), (_entry("a", True), _entry("b")))
    app._login_answered({"action": "login", "server": "HQ", "login": "op", "password": "pw"})
    daemon.push(Snapshot(state=State.LIMIT_REACHED, server="HQ", sessions_in_use=2, max_sessions=2))
    assert app.drain()
    request, on_answer, _e = launcher.last("sessions")
    assert request["conflict"] is True and request["max"] == 2
    assert [s["id"] for s in request["sessions"]] == ["a", "b"]
    assert request["sessions"][0]["started_at"] == "2026-11-27T08:00:00Z"
    on_answer({"action": "end", "session_id": "b"})
    assert daemon.posted[-1] == commands.EndSession("b")
    on_answer({"action": "wait"})
    assert daemon.posted[-1] == commands.WaitForSeat()


def test_servers_dialog_saves_through_the_store_and_reloads(world: Any) -> None:
    app, daemon, _i, launcher, _a = world
    ConnectionStore().update(lambda lst: lst.add("HQ", "hq.example.com", "op").with_last_used("HQ"))
    app.on_intent(Intent.MANAGE_SERVERS)
    assert app.drain()
    request, on_answer, _e = launcher.last("servers")
    conns = request["connections"]
    assert conns[0]["url"] == "https://hq.example.com"
    conns.append({"name": "Branch", "url": "https://b.example.com", "login": "g", "default": False})
    on_answer({"action": "save", "connections": conns})
    saved: ConnectionList = ConnectionStore().load()
    assert saved.names() == ("HQ", "Branch")
    assert saved.last_used == "HQ"
    assert daemon.posted == [commands.ReloadConfig()]


def test_servers_dialog_renames_and_removals_carry_the_passwords(isolated_profile: Path) -> None:
    from vms_tray.credentials import Credentials

    creds = Credentials(None)  # memory only: the same class the CLI uses on the keyring
    creds.set("HQ", "hq-pw")
    creds.set("Branch", "branch-pw")
    ConnectionStore().update(
        lambda lst: (
            lst.add("HQ", "hq.example.com", "op")
            .add("Branch", "b.example.com", "g")
            .with_last_used("hq")
        )  # names ignore case
    )
    daemon = FakeDaemon(Snapshot())
    launcher = FakeLauncher()
    app = TrayApp(
        daemon,
        icon_factory=lambda _i, _p: RecordingIcon(),
        launcher=launcher,  # type: ignore[arg-type]
        autostart=None,
        credentials=creds,
    )
    app.open_servers()
    request, on_answer, _e = launcher.last("servers")
    hq = {**request["connections"][0], "name": "Head office", "original": "HQ"}
    on_answer({"action": "save", "connections": [hq]})  # HQ renamed, Branch deleted
    saved: ConnectionList = ConnectionStore().load()
    assert saved.names() == ("Head office",) and saved.last_used == "Head office"
    assert creds.get("Head office") == "hq-pw" and creds.get("HQ") is None
    assert creds.get("Branch") is None
    assert daemon.posted == [commands.ReloadConfig()]


def test_start_at_login_toggles_the_backend_and_the_check_mark(world: Any) -> None:
    app, _d, icon, _l, autostart = world
    app.on_intent(Intent.TOGGLE_AUTOSTART)
    assert app.drain()
    assert autostart.on
    assert icon.views[-1].find("toggle_autostart").checked is True
    app.on_intent(Intent.TOGGLE_AUTOSTART)
    assert app.drain()
    assert not autostart.on
    assert icon.views[-1].find("toggle_autostart").checked is False


def test_notification_buttons_route_to_dialogs(world: Any) -> None:
    app, daemon, _i, launcher, _a = world
    daemon.session_value = SessionList(Limit("user", 5, 3), ())
    app.on_notice_action("show_sessions")
    app.on_notice_action("nonsense")
    assert app.drain()
    # Listing sessions may wait on the server, so it runs beside the action worker.
    wait_until(lambda: bool(launcher.opened), 5, "the sessions dialog")
    assert [n for n, *_ in launcher.opened] == ["sessions"]


def test_open_log_folder_creates_and_opens_it(world: Any, isolated_profile: Path) -> None:
    app, *_ = world
    app.on_intent(Intent.OPEN_LOG)
    assert app.drain()
    assert app.opened_folders == [str(isolated_profile / "log")]
    assert (isolated_profile / "log").is_dir()


def test_popup_answer_dispatches_the_chosen_entry(world: Any) -> None:
    app, daemon, _i, launcher, _a = world
    app.on_popup()
    assert app.drain()
    request, on_answer, _e = launcher.last("menu")
    assert request["items"][0]["key"] == "status"
    on_answer({"action": "select", "key": "switch_server:Branch"})
    assert app.drain()
    assert daemon.posted == [commands.SwitchServer("Branch")]


def test_daemon_show_requests_open_the_right_dialog(isolated_profile: Path) -> None:
    i18n.install("en")
    daemon = FakeDaemon(SIGNED_IN)
    shows: list[Callable[[str], None]] = []
    daemon.on_show = shows.append  # type: ignore[attr-defined]
    daemon.conflict_sessions = lambda: SessionList(Limit("user", 1, 1), (_entry("z"),))  # type: ignore[attr-defined]
    launcher = FakeLauncher()
    app = TrayApp(
        daemon,
        icon_factory=lambda _i, _p: RecordingIcon(),
        launcher=launcher,  # type: ignore[arg-type]
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
        app._shutdown_worker()


FP = ":".join(["AB", "01"] * 16)
FP2 = ":".join(["CD", "02"] * 16)


@pytest.mark.parametrize(
    ("message", "kind", "fingerprint"),
    [
        (
            f"the certificate of HQ is not signed by an authority this computer trusts "
            f"(SHA-256 {FP}); nothing was sent: check the fingerprint with the administrator",
            "untrusted",
            FP,
        ),
        (
            f"the certificate of HQ is not the pinned one (pinned SHA-256 {FP}, presented {FP2}); "
            "nothing was sent",
            "changed",
            FP2,
        ),
        ("the certificate of HQ has expired", "other", None),
        ("HQ refused the login or password (check them and sign in again)", "credentials", None),
        ("HQ is unreachable: connection refused", "unreachable", None),
        ("something else", "other", None),
    ],
)
def test_error_info_classifies_daemon_messages(
    message: str, kind: str, fingerprint: str | None
) -> None:
    from vms_tray.tray.app import error_info

    info = error_info(message)
    assert (info["kind"], info["fingerprint"]) == (kind, fingerprint)
    assert info["message"] == message


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
        launcher=launcher,  # type: ignore[arg-type]
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
        app._shutdown_worker()
