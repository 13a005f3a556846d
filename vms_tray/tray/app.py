"""The tray application: daemon snapshots in, icon/menu out, menu clicks -> commands or dialogs.

``run_tray(daemon)`` is what ``vms-tray run`` calls on the main thread. The tray thread never
waits on the network or a dialog: a snapshot only recomputes the (pure) view, and each menu click
is handed to one worker thread (:mod:`vms_tray.tray.jobs`), which posts a command to the daemon
or opens a dialog (the journeys through them are :mod:`vms_tray.tray.dialog_flows`).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal

from vms_tray import __version__, commands, i18n, paths
from vms_tray.autostart import default_backend
from vms_tray.autostart.forced import refusal
from vms_tray.connections.policy import load_policy
from vms_tray.credentials import Credentials
from vms_tray.dialogs.launcher import DialogLauncher
from vms_tray.session.snapshot import Snapshot, State
from vms_tray.tray.connections_dialog import ConnectionsDialog
from vms_tray.tray.desktop_offer import DesktopOffer
from vms_tray.tray.dialog_flows import DialogFlows
from vms_tray.tray.dialog_host import DialogHost
from vms_tray.tray.jobs import Jobs
from vms_tray.tray.ports import (
    Autostart,
    DaemonPort,
    Icon,
    IconFactory,
    IconNotices,
    Json,
    Launcher,
)
from vms_tray.tray.view import Intent, MenuEntry, TrayView, build_view, status_intent

log = logging.getLogger(__name__)

# Action ids of notification buttons (vms_tray.daemon.notices).
NOTICE_ACTIONS: dict[str, Intent] = {
    "show_sessions": Intent.SESSIONS,
    "sign_in": Intent.SIGN_IN,
    "show_captcha": Intent.CAPTCHA,
}


def _default_icon_factory(
    on_intent: Callable[[Intent, str | None], None], on_popup: Callable[[], None]
) -> Icon:
    # Imported here: pystray needs a display even to import (an Xlib error without one), and
    # this module must import anywhere (tests, the headless fallback).
    from vms_tray.tray.icon import TrayIcon

    return TrayIcon(on_intent, on_popup)


def _autostart_backend() -> Autostart | None:
    try:
        return default_backend()
    except Exception as exc:
        log.info("start at login is unavailable here: %s", exc)
        return None


def _open_folder(path: str) -> None:
    if sys.platform == "win32":  # pragma: no cover - Windows only
        os.startfile(path)  # type: ignore[attr-defined]  # noqa: S606
        return
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    subprocess.Popen(
        [opener, path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def _entry_json(e: MenuEntry) -> Json:
    return {
        "key": e.key,
        "text": e.text,
        "enabled": e.enabled,
        "checked": e.checked,
        "radio": e.radio,
        "separator": e.separator,
        "children": [_entry_json(c) for c in e.children],
    }


__all__ = ["TrayApp", "run_tray"]


class TrayApp:
    def __init__(
        self,
        daemon: DaemonPort,
        *,
        icon_factory: IconFactory = _default_icon_factory,
        launcher: Launcher | None = None,
        autostart: Autostart | Literal["auto"] | None = "auto",
        open_folder: Callable[[str], None] = _open_folder,
        credentials: Credentials | None = None,
        icon_notices: IconNotices | None = None,
        desktop_offer: bool = False,
    ) -> None:
        """``credentials``: where server passwords follow renames and removals (default: the
        secure keyring, as for the CLI). ``icon_notices``: given the icon's ``notify``, shows
        notices through it (the notifier is TrayNotifier)."""
        self.daemon = daemon
        self.dialogs = DialogHost(launcher or DialogLauncher())
        self.autostart = _autostart_backend() if autostart == "auto" else autostart
        self.open_folder = open_folder
        self.icon_notices = icon_notices
        self.jobs = Jobs()
        self._snap = Snapshot()
        self._autostart_on: bool | None = None
        self._autostart_forced: str | None = None  # the policy file forcing it on
        self._stopping = threading.Event()
        self.servers = ConnectionsDialog(daemon, self.dialogs, credentials)
        self.flows = DialogFlows(daemon, self.dialogs, self.servers, self.jobs, lambda: self._snap)
        self.icon = icon_factory(self.on_intent, self.on_popup)
        self.view: TrayView | None = None
        # The first start's "put a launcher on the desktop?" (run_tray only: tests opt in).
        self.desktop_offer = DesktopOffer(self.dialogs) if desktop_offer else None

    # --- state -> view --------------------------------------------------------------------------

    def render(self, snap: Snapshot) -> TrayView:
        view = build_view(
            snap,
            autostart=self._autostart_on,
            autostart_available=self.autostart is not None,
            autostart_forced=self._autostart_forced is not None,
        )
        self.view = view
        self.icon.show(view)
        return view

    def on_snapshot(self, snap: Snapshot) -> None:
        """Called by the daemon (its thread) on every change: re-render, maybe follow up."""
        old, self._snap = self._snap, snap
        try:
            self.render(snap)
        except Exception:
            log.exception("could not update the tray icon")
        if snap.state != old.state or snap.captcha_id != old.captcha_id:
            self.jobs.submit(lambda: self.flows.follow_up(old, snap))

    # --- intents (tray thread) -> worker ---------------------------------------------------------

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every queued action and dialog journey ran (shutdown, tests); True if
        done in time."""
        return self.jobs.drain(timeout)

    def on_intent(self, intent: Intent, arg: str | None = None) -> None:
        """A menu click. Runs on the tray's thread: hand it off and return at once."""
        self.jobs.submit(lambda: self.handle(intent, arg))

    def on_notice_action(self, action_id: str) -> None:
        intent = NOTICE_ACTIONS.get(action_id)
        if intent is None:
            log.warning("unknown notification action %s", action_id)
            return
        self.on_intent(intent)

    def on_popup(self) -> None:
        """Backends without a menu: show the same menu as a popup at the pointer."""
        self.jobs.submit(self.open_popup)

    def handle(self, intent: Intent, arg: str | None = None) -> None:
        snap = self._snap
        post = self.daemon.post
        flows = self.flows
        if intent is Intent.STATUS:
            intent = status_intent(snap)
        if intent is Intent.SIGN_IN:
            flows.open_login()
        elif intent is Intent.SIGN_OUT:
            post(commands.SignOut())
        elif intent is Intent.CAPTCHA:
            flows.open_captcha()
        elif intent is Intent.RESOLVE_LIMIT:
            flows.open_sessions()
        elif intent is Intent.SESSIONS:
            # Listing asks the server (up to the daemon's timeout): keep other clicks moving.
            self.jobs.spawn(flows.open_sessions)
        elif intent is Intent.CANCEL_WAIT:
            post(commands.CancelWait())
        elif intent is Intent.SWITCH_SERVER and arg:
            if arg != snap.server:
                flows.switch_server(arg)
        elif intent is Intent.MANAGE_SERVERS:
            self.servers.open()
        elif intent is Intent.TOGGLE_AUTOSTART:
            self.toggle_autostart()
        elif intent is Intent.OPEN_LOG:
            folder = paths.log_dir()
            folder.mkdir(parents=True, exist_ok=True)
            self.open_folder(str(folder))
        elif intent is Intent.ABOUT:
            self.open_about()
        elif intent is Intent.QUIT:
            self.quit()

    # --- the menu's own dialogs -----------------------------------------------------------------

    def open_popup(self) -> None:
        view = self.view
        if view is None:
            return

        def answered(ans: Json) -> None:
            if ans.get("action") != "select":
                return
            entry = view.find(str(ans.get("key")))
            if entry is not None and entry.intent is not None:
                self.on_intent(entry.intent, entry.arg)

        self.dialogs.open("menu", {"items": [_entry_json(e) for e in view.menu]}, answered)

    def open_about(self) -> None:
        view = self.view
        snap = self._snap
        details = [line for line in (view.tooltip.splitlines()[1:] if view else [])]
        data = {
            "version": __version__,
            "status": view.status if view else "",
            "details": details if snap.state is not State.SIGNED_OUT else [],
            "log_dir": str(paths.log_dir()),
        }
        self.dialogs.open("about", data, lambda _a: None)

    # --- autostart ------------------------------------------------------------------------------

    def _read_autostart(self) -> None:
        policy = load_policy()
        self._autostart_forced = str(policy.path) if policy.force_autostart else None
        if self.autostart is None:
            return
        try:
            self._autostart_on = bool(self.autostart.is_enabled())
        except Exception as exc:
            log.warning("could not read the start-at-login setting: %s", exc)

    def toggle_autostart(self) -> None:
        if self.autostart is None:
            return
        self._read_autostart()
        try:
            if self._autostart_on and self._autostart_forced is not None:
                log.warning("%s", refusal(self._autostart_forced))
            elif self._autostart_on:
                self.autostart.disable()
            else:
                self.autostart.enable()
        except Exception as exc:
            log.error("could not change start at login: %s", exc)
        self._read_autostart()
        self.render(replace(self._snap))

    # --- lifecycle ------------------------------------------------------------------------------

    def on_show(self, reason: str) -> None:
        """The daemon asks for a window: "window" (a second ``vms-tray run``), "sign_in" (a
        password is needed) or a notification button's action id."""
        if reason == "window":
            self.on_intent(Intent.STATUS)
        else:
            self.on_notice_action(reason)

    def start(self) -> None:
        """Everything but the blocking loop (tests drive this with a fake icon)."""
        self.jobs.start()
        self._read_autostart()
        self._snap = self.daemon.snapshot()
        self.render(self._snap)
        self.daemon.subscribe(self.on_snapshot)
        # The daemon owns the notifier's action handler and forwards what needs a window; it
        # replays a request made before this (the start-up "sign_in").
        self.daemon.on_show(self.on_show)
        if self.icon_notices is not None and self.icon.has_notification:
            self.icon_notices(self.icon.notify)
        # 'vms-tray quit', a signal to the runner, a notification: the tray goes too.
        self.daemon.on_stop(self.on_daemon_stopped)
        if self.daemon.stopped:
            self.on_daemon_stopped()  # it stopped before the icon was up
        elif self.desktop_offer is not None:
            self.jobs.submit(self.desktop_offer.run)

    def on_daemon_stopped(self) -> None:
        """Called on the daemon's thread as it stops: quit from a thread of our own, since
        stopping the icon may wait for the backend's loop."""
        threading.Thread(target=self.quit, name="tray-quit", daemon=True).start()

    def run(self) -> None:
        if threading.current_thread() is threading.main_thread():
            # The handler interrupts the main thread wherever it is, possibly inside the tray
            # backend holding its X connection lock: quit from another thread instead.
            def on_signal(*_: Any) -> None:
                threading.Thread(target=self.quit, name="tray-quit", daemon=True).start()

            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, on_signal)
        self.icon.run(ready=self.start)
        self.jobs.shutdown()

    def quit(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        log.info("quitting")
        try:
            self.daemon.post(commands.Quit())
        finally:
            threading.Thread(target=self.dialogs.close_all, daemon=True).start()
            self.icon.stop()


def run_tray(daemon: DaemonPort, icon_notices: IconNotices | None = None) -> None:
    """Show the tray icon for ``daemon`` and block until the user quits (main thread).

    ``icon_notices``: the notifier shows notices through the icon (see :class:`TrayApp`)."""
    i18n.install()
    app = TrayApp(daemon, icon_notices=icon_notices, desktop_offer=True)
    log.info("tray started (language %s)", i18n.current_language())
    app.run()
