"""TrayApp wiring: menu intents and dialog answers become daemon commands; snapshots re-render.

Doubles at the boundary only: a recording icon (instead of pystray), a fake daemon (snapshot,
subscribe, post) and a launcher that records dialog requests and lets the test answer them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.components import wait_until
from vms_tray import commands, i18n
from vms_tray.connections.rules import ConnectionList
from vms_tray.connections.store import ConnectionStore
from vms_tray.errors import CredentialError, NetworkError
from vms_tray.kinds.base import Captcha, Limit, SessionEntry, SessionList
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


class WithdrawingNotifier:
    def __init__(self) -> None:
        self.withdrawn: list[str] = []

    def withdraw(self, topic: str) -> None:
        self.withdrawn.append(topic)


class FakeDaemon:
    """``execute`` records the command, then moves to the snapshot (or raises the error) the
    test scripted for that command's type in ``results``."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self.posted: list[commands.Command] = []
        self.executed: list[commands.Command] = []
        self.results: dict[type, Snapshot | Exception] = {}
        self.passwords: set[str] = set()
        self.notifier = WithdrawingNotifier()
        self.subscribers: list[Callable[[Snapshot], None]] = []
        self.captcha_value: Captcha | None = None
        self.session_value: SessionList | None = None

    def snapshot(self) -> Snapshot:
        return self.snap

    def subscribe(self, cb: Callable[[Snapshot], None]) -> None:
        self.subscribers.append(cb)

    def post(self, command: commands.Command) -> None:
        self.posted.append(command)

    def execute(self, command: commands.Command, timeout: float = 15.0) -> None:
        self.executed.append(command)
        result = self.results.get(type(command))
        if isinstance(result, Exception):
            raise result
        if result is not None:
            self.push(result)

    def has_password(self, name: str | None) -> bool:
        return name in self.passwords

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
        h = self.handles.get(name)
        return h if h is not None and not h.closed else None

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


def _submit_login(launcher: FakeLauncher, **fields: Any) -> None:
    """The user presses "Sign in" in the (live) sign-in dialog."""
    _req, _ans, on_event = launcher.last("login")
    on_event({"event": "submit", "server": "HQ", "login": "op", "password": "pw", **fields})


def test_sign_in_dialog_runs_the_sign_in_and_closes_when_signed_in(world: Any) -> None:
    app, daemon, _i, launcher, _a = world
    ConnectionStore().update(lambda lst: lst.add("HQ", "hq.example.com", "op"))
    daemon.push(Snapshot(state=State.SIGNED_OUT, servers=SERVERS))
    app.on_intent(Intent.STATUS)  # left click while signed out
    assert app.drain()
    request, _ans, _ev = launcher.last("login")
    assert [s["name"] for s in request["servers"]] == ["HQ"]
    assert request["language"] == "en" and request["live"] is True
    daemon.results[commands.SignIn] = SIGNED_IN
    _submit_login(launcher, remember=True)
    assert app.drain()
    assert daemon.executed == [
        commands.SignIn(server="HQ", login="op", password="pw", remember=True)
    ]
    # The password never shows in a logged command.
    assert "pw" not in repr(daemon.executed[0])
    assert launcher.handles["login"].closed


def test_a_wrong_password_keeps_the_dialog_open_with_the_error_each_time(world: Any) -> None:
    app, daemon, _i, launcher, _a = world
    daemon.push(Snapshot(state=State.SIGNED_OUT, server="HQ", servers=SERVERS))
    app.on_intent(Intent.SIGN_IN)
    assert app.drain()
    wrong = Snapshot(state=State.ERROR, server="HQ", last_error="wrong login or password")
    daemon.results[commands.SignIn] = wrong
    for _ in range(2):  # the second time too: the same error, the same open dialog
        _submit_login(launcher, password="bad")
        assert app.drain()
    handle = launcher.handles["login"]
    assert not handle.closed
    assert [u["error"]["kind"] for u in handle.updates] == ["credentials", "credentials"]
    assert [n for n, *_ in launcher.opened] == ["login"]
    # The dialog shows the error: the "sign-in failed" notice is taken back, not left behind.
    assert daemon.notifier.withdrawn == ["sign_in", "sign_in"]


def test_a_click_after_a_failure_opens_the_dialog_with_the_error(world: Any) -> None:
    app, daemon, _i, launcher, _a = world
    daemon.push(Snapshot(state=State.ERROR, server="HQ", last_error="wrong login or password"))
    app.on_intent(Intent.STATUS)
    assert app.drain()
    request, _a2, _e = launcher.last("login")
    assert request["error"]["kind"] == "credentials"


def test_a_refused_sign_in_shows_its_message_inline(world: Any) -> None:
    app, daemon, _i, launcher, _a = world
    app.on_intent(Intent.SIGN_IN)
    assert app.drain()
    daemon.results[commands.SignIn] = CredentialError("no password stored for HQ")
    _submit_login(launcher, password=None)
    assert app.drain()
    assert launcher.handles["login"].updates[-1]["error"]["kind"] == "credentials"


def test_trusting_a_certificate_pins_it_in_the_config(world: Any) -> None:
    app, daemon, _i, launcher, _a = world
    ConnectionStore().update(lambda lst: lst.add("HQ", "hq.example.com", "op"))
    fp = ":".join(["AB"] * 32)
    app.on_intent(Intent.SIGN_IN)
    assert app.drain()
    _submit_login(launcher, trust_fingerprint=fp)
    assert app.drain()
    conn = ConnectionStore().load().get("HQ")
    assert conn.trust.mode == "pinned" and conn.trust.pin_sha256 == fp
    assert daemon.posted[0] == commands.ReloadConfig()
    assert isinstance(daemon.executed[0], commands.SignIn)


def test_switching_without_a_stored_password_asks_first_and_cancel_changes_nothing(
    world: Any,
) -> None:
    app, daemon, _i, launcher, _a = world
    app.on_intent(Intent.SWITCH_SERVER, "Branch")
    assert app.drain()
    request, on_answer, _e = launcher.last("login")
    assert request["server"] == "Branch"
    assert request["switching_from"] == "HQ"  # the dialog says the HQ session would end
    on_answer({"action": "cancel"})
    assert app.drain()
    assert daemon.posted == [] and daemon.executed == []


def test_switching_without_a_stored_password_signs_in_with_what_was_typed(world: Any) -> None:
    app, daemon, _i, launcher, _a = world
    app.on_intent(Intent.SWITCH_SERVER, "Branch")
    assert app.drain()
    daemon.results[commands.SignIn] = replace(SIGNED_IN, server="Branch")
    _submit_login(launcher, server="Branch", login="guard")
    assert app.drain()
    assert daemon.executed == [commands.SignIn(server="Branch", login="guard", password="pw")]
    assert launcher.handles["login"].closed


def test_switching_with_a_stored_password_switches_and_a_failure_opens_the_dialog(
    world: Any,
) -> None:
    app, daemon, _i, launcher, _a = world
    daemon.passwords.add("Branch")
    daemon.results[commands.SwitchServer] = Snapshot(
        state=State.ERROR, server="Branch", last_error="wrong login or password"
    )
    app.on_intent(Intent.SWITCH_SERVER, "Branch")
    assert app.drain()
    assert daemon.executed == [commands.SwitchServer("Branch")]
    request, _a2, _e = launcher.last("login")
    assert request["server"] == "Branch" and request["error"]["kind"] == "credentials"


def _captcha_world(world: Any) -> tuple[TrayApp, FakeDaemon, FakeLauncher]:
    app, daemon, _i, launcher, _a = world
    daemon.captcha_value = Captcha("c1", b"\x89PNG-1", 60)
    app.on_intent(Intent.SIGN_IN)
    assert app.drain()
    daemon.results[commands.SignIn] = Snapshot(
        state=State.CAPTCHA_REQUIRED, server="HQ", captcha_id="c1", captcha_reason="required"
    )
    _submit_login(launcher)
    assert app.drain()
    assert launcher.handles["login"].closed, "the sign-in dialog turned into the captcha"
    return app, daemon, launcher


def test_a_captcha_demand_turns_the_sign_in_into_the_captcha_dialog(world: Any) -> None:
    _app, _daemon, launcher = _captcha_world(world)
    request, _ans, _ev = launcher.last("captcha")
    assert request["expires_in"] == 60 and request["live"] is True
    assert request["error"] is None


def test_a_wrong_captcha_answer_shows_a_new_picture_and_says_why(world: Any) -> None:
    app, daemon, launcher = _captcha_world(world)
    _req, _ans, on_event = launcher.last("captcha")
    daemon.captcha_value = Captcha("c2", b"\x89PNG-2", 60)
    daemon.results[commands.AnswerCaptcha] = Snapshot(
        state=State.CAPTCHA_REQUIRED, server="HQ", captcha_id="c2", captcha_reason="invalid"
    )
    on_event({"event": "answer", "answer": "WRONG"})
    assert app.drain()
    assert daemon.executed[-1] == commands.AnswerCaptcha("WRONG")
    update = launcher.handles["captcha"].updates[-1]
    assert update["error"] == "Wrong characters, try the new picture."
    assert update["image_png_b64"]
    assert not launcher.handles["captcha"].closed
    daemon.results[commands.AnswerCaptcha] = SIGNED_IN
    on_event({"event": "answer", "answer": "K7WQ2"})
    assert app.drain()
    assert launcher.handles["captcha"].closed


def test_an_expired_captcha_answer_says_the_picture_expired(world: Any) -> None:
    app, daemon, launcher = _captcha_world(world)
    _req, _ans, on_event = launcher.last("captcha")
    daemon.captcha_value = Captcha("c2", b"\x89PNG-2", 60)
    daemon.results[commands.AnswerCaptcha] = Snapshot(
        state=State.CAPTCHA_REQUIRED, server="HQ", captcha_id="c2", captcha_reason="expired"
    )
    on_event({"event": "answer", "answer": "LATE1"})
    assert app.drain()
    error = launcher.handles["captcha"].updates[-1]["error"]
    assert error == "That picture expired, type the characters of the new one."


def test_captcha_refresh_shows_the_new_picture_or_gives_refresh_back(world: Any) -> None:
    app, daemon, launcher = _captcha_world(world)
    _req, _ans, on_event = launcher.last("captcha")
    daemon.captcha_value = Captcha("c2", b"\x89PNG-2", 60)
    # The snapshot does not change but for the captcha: the dialog must still get it.
    daemon.results[commands.RefreshCaptcha] = Snapshot(
        state=State.CAPTCHA_REQUIRED, server="HQ", captcha_id="c2", captcha_reason="required"
    )
    on_event({"event": "refresh", "expired": False})
    assert app.drain()
    assert daemon.executed[-1] == commands.RefreshCaptcha()
    handle = launcher.handles["captcha"]
    assert handle.updates[-1]["image_png_b64"] and handle.updates[-1]["error"] is None
    daemon.results[commands.RefreshCaptcha] = NetworkError("HQ does not answer")
    on_event({"event": "refresh", "expired": True})
    assert app.drain()
    assert handle.updates[-1] == {"refresh_failed": True, "error": "HQ does not answer"}


def test_a_waiting_sign_in_that_meets_a_captcha_opens_the_captcha_dialog(world: Any) -> None:
    app, daemon, _i, launcher, _a = world
    daemon.captcha_value = Captcha("c1", b"\x89PNG-1", 60)
    daemon.push(Snapshot(state=State.LIMIT_REACHED, server="HQ", waiting_for_seat=True))
    daemon.push(Snapshot(state=State.CAPTCHA_REQUIRED, server="HQ", captcha_id="c1"))
    assert app.drain()
    assert launcher.last("captcha")[0]["server"] == "HQ"


def _entry(i: str, current: bool = False) -> SessionEntry:
    t = datetime(2026, 11, 27, 8, tzinfo=UTC)
    return SessionEntry(i, f"PC-{i}", "VMS", "5", "10.0.0.1", t, t, False, current)


def test_limit_conflict_opens_sessions_and_end_or_wait_post_commands(world: Any) -> None:
    app, daemon, _i, launcher, _a = world
    daemon.session_value = SessionList(Limit("user", 2, 2), (_entry("a", True), _entry("b")))
    app.on_intent(Intent.SIGN_IN)
    assert app.drain()
    daemon.results[commands.SignIn] = Snapshot(
        state=State.LIMIT_REACHED, server="HQ", sessions_in_use=2, max_sessions=2
    )
    _submit_login(launcher)
    assert app.drain()
    assert launcher.handles["login"].closed
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
    request, on_answer, _e = launcher.last("connections")
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
    request, on_answer, _e = launcher.last("connections")
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
