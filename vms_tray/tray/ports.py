"""Everything the tray uses from outside it, as protocols: the daemon, the icon, the dialogs.

The tray is a view: it reads the daemon's snapshots and asks it the few questions a dialog needs
(a stored password? the captcha? the sessions?), and every click becomes a command. Naming the
whole surface here lets mypy check that the real :class:`vms_tray.daemon.worker.Daemon` and each
test double offer all of it, so the tray never probes for a method (no getattr/hasattr).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from vms_tray import commands
from vms_tray.session.records import Captcha, SessionList
from vms_tray.session.snapshot import Snapshot
from vms_tray.tray.view import Intent, TrayView

Json = dict[str, Any]


class NoticeBoard(Protocol):
    """The daemon's notifier as the tray uses it: a dialog on screen takes back the notice that
    said the same thing."""

    def withdraw(self, topic: str) -> None: ...


class DaemonPort(Protocol):
    """The daemon as the tray sees it. Every method is thread-safe; the blocking ones
    (``execute``, ``sessions``) are only called off the tray's own thread."""

    # Read-only properties: the daemon's attributes satisfy them whatever their mutability.
    @property
    def notifier(self) -> NoticeBoard: ...

    @property
    def stopped(self) -> bool:
        """True once the daemon's worker ended (it may stop before the icon is up)."""

    def snapshot(self) -> Snapshot: ...

    def subscribe(self, callback: Callable[[Snapshot], None]) -> object:
        """``callback`` runs on the daemon's thread after every change."""

    def on_show(self, callback: Callable[[str], None]) -> None:
        """``callback(reason)``: "window", "sign_in" or a notification button's action id."""

    def on_stop(self, callback: Callable[[], None]) -> None: ...

    def post(self, command: commands.Command) -> None: ...

    def execute(self, command: commands.Command, timeout: float = 15.0) -> None:
        """Run ``command`` to its end, raising what it raised (a dialog waits on it)."""

    def has_password(self, server: str | None) -> bool:
        """Whether a sign-in to ``server`` can run without asking for the password."""

    def captcha(self) -> Captcha | None: ...

    def conflict_sessions(self) -> SessionList | None:
        """In a limit conflict: the sessions the server listed with it (no request)."""

    def sessions(self, timeout: float = 15.0) -> SessionList:
        """The account's sessions, fetched now (blocking; raises when the server fails)."""


class Icon(Protocol):
    """:class:`vms_tray.tray.icon.TrayIcon` (pystray) as the tray drives it."""

    has_notification: bool  # notify works (Windows balloons, macOS); not on Linux backends
    backend: str  # pystray's backend name, for the log and the desktop tests

    def show(self, view: TrayView) -> None: ...

    def run(self, ready: Callable[[], None] | None = None) -> None: ...

    def stop(self) -> None: ...

    def notify(self, title: str, message: str) -> None: ...


IntentFn = Callable[[Intent, "str | None"], None]
IconFactory = Callable[[IntentFn, Callable[[], None]], Icon]
# Hands the icon's own notify to a notifier that shows notices through it (TrayNotifier.attach).
IconNotices = Callable[[Callable[[str, str], None]], None]


class Autostart(Protocol):
    """Start at login (:mod:`vms_tray.autostart`'s backend for this system)."""

    def is_enabled(self) -> bool: ...

    def enable(self) -> object: ...

    def disable(self) -> object: ...


class DialogHandle(Protocol):
    def send_update(self, update: Json) -> bool:
        """Push new data into the open dialog; False if it is gone."""

    def close(self, timeout: float = 5.0) -> None: ...


class Launcher(Protocol):
    """:class:`vms_tray.dialogs.launcher.DialogLauncher`: at most one dialog of each name."""

    def current(self, name: str) -> DialogHandle | None: ...

    def open(
        self,
        name: str,
        request: Json,
        on_answer: Callable[[Json], None],
        on_event: Callable[[Json], None] | None = None,
    ) -> DialogHandle | None: ...

    def close_all(self, timeout: float = 5.0) -> None: ...
