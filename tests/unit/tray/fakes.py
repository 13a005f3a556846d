"""Doubles at the tray's boundary: a recording icon (instead of pystray), a fake daemon with the
whole :class:`~vms_tray.tray.ports.DaemonPort` (mypy checks it wherever a TrayApp gets one)
and a launcher that records dialog requests and lets the test answer them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from vms_tray import commands
from vms_tray.errors import NetworkError
from vms_tray.session.records import Captcha, SessionEntry, SessionList
from vms_tray.session.snapshot import ServerChoice, Snapshot, State
from vms_tray.tray.app import TrayApp
from vms_tray.tray.view import TrayView


class RecordingIcon:
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
        self.shows: list[Callable[[str], None]] = []
        self.stops: list[Callable[[], None]] = []
        self.stopped = False
        self.captcha_value: Captcha | None = None
        self.conflict_value: SessionList | None = None
        self.session_value: SessionList | None = None  # None: listing fails

    def snapshot(self) -> Snapshot:
        return self.snap

    def subscribe(self, callback: Callable[[Snapshot], None]) -> None:
        self.subscribers.append(callback)

    def on_show(self, callback: Callable[[str], None]) -> None:
        self.shows.append(callback)

    def on_stop(self, callback: Callable[[], None]) -> None:
        self.stops.append(callback)

    def post(self, command: commands.Command) -> None:
        self.posted.append(command)

    def execute(self, command: commands.Command, timeout: float = 15.0) -> None:
        self.executed.append(command)
        result = self.results.get(type(command))
        if isinstance(result, Exception):
            raise result
        if result is not None:
            self.push(result)

    def has_password(self, server: str | None) -> bool:
        return server in self.passwords

    def push(self, snap: Snapshot) -> None:
        self.snap = snap
        for cb in self.subscribers:
            cb(snap)

    def captcha(self) -> Captcha | None:
        return self.captcha_value

    def conflict_sessions(self) -> SessionList | None:
        return self.conflict_value

    def sessions(self, timeout: float = 15.0) -> SessionList:
        if self.session_value is None:
            raise NetworkError("the server does not answer")
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
        self,
        name: str,
        request: dict[str, Any],
        on_answer: Callable[[dict[str, Any]], None],
        on_event: Callable[[dict[str, Any]], None] | None = None,
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


# What the ``world`` fixture (conftest) gives a test: a started tray and its doubles.
World = tuple[TrayApp, FakeDaemon, RecordingIcon, FakeLauncher, FakeAutostart]


def session_entry(i: str, current: bool = False) -> SessionEntry:
    t = datetime(2026, 11, 27, 8, tzinfo=UTC)
    return SessionEntry(i, f"PC-{i}", "VMS", "5", "10.0.0.1", t, t, False, current)
