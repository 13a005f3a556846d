"""The tray application: daemon snapshots in, icon/menu out, menu clicks -> commands or dialogs.

``run_tray(daemon)`` is what ``vms-tray run`` calls on the main thread. The tray thread never
waits on the network or a dialog: a snapshot only recomputes the (pure) view, and each menu click
is handed to one worker thread, which posts a command to the daemon or starts a dialog child
process (see :mod:`vms_tray.dialogs.launcher`).
"""

from __future__ import annotations

import base64
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol

from vms_tray import __version__, commands, i18n, paths
from vms_tray.dialogs.launcher import DialogLauncher, Json
from vms_tray.errors import VmsTrayError
from vms_tray.session.snapshot import Snapshot, State
from vms_tray.tray.flows import (
    CAPTCHA_TIMEOUT,
    SIGN_IN_TIMEOUT,
    Next,
    Step,
    captcha_message,
    error_info,
    next_step,
)
from vms_tray.tray.view import Intent, MenuEntry, TrayView, build_view, status_intent

log = logging.getLogger(__name__)

# The notices' topic for what a sign-in waits for (vms_tray.session.effects.Subject.SIGN_IN).
SIGN_IN_NOTICE = "sign_in"

# Action ids of notification buttons (vms_tray.daemon.notices).
NOTICE_ACTIONS: dict[str, Intent] = {
    "show_sessions": Intent.SESSIONS,
    "sign_in": Intent.SIGN_IN,
    "show_captcha": Intent.CAPTCHA,
}


class Daemon(Protocol):
    """What the tray needs from the daemon. Optional extras are looked up with getattr:
    ``notifier`` (to route notification buttons here), ``captcha()`` and ``sessions()``."""

    def snapshot(self) -> Snapshot: ...

    def subscribe(self, callback: Callable[[Snapshot], None]) -> Any: ...

    def post(self, command: commands.Command) -> None: ...

    def execute(self, command: commands.Command, timeout: float = 15.0) -> None:
        """Run ``command`` to its end, raising what it raised (a dialog waits on it)."""


class Icon(Protocol):
    has_menu: bool
    has_notification: bool
    backend: str

    def show(self, view: TrayView) -> None: ...

    def run(self, ready: Callable[[], None] | None = None) -> None: ...

    def stop(self) -> None: ...

    def notify(self, title: str, message: str) -> None: ...


IconFactory = Callable[[Callable[[Intent, "str | None"], None], Callable[[], None]], Icon]


def _default_icon_factory(
    on_intent: Callable[[Intent, str | None], None], on_popup: Callable[[], None]
) -> Icon:
    from vms_tray.tray.icon import TrayIcon

    return TrayIcon(on_intent, on_popup)


def _autostart_backend() -> Any:
    try:
        from vms_tray.autostart import default_backend
    except ImportError:
        return None
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


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


__all__ = ["TrayApp", "error_info", "run_tray"]


class TrayApp:
    def __init__(
        self,
        daemon: Daemon,
        *,
        icon_factory: IconFactory = _default_icon_factory,
        launcher: DialogLauncher | None = None,
        autostart: Any = "auto",
        open_folder: Callable[[str], None] = _open_folder,
        credentials: Any = None,
    ) -> None:
        """``credentials``: where server passwords follow renames and removals (default: the
        secure keyring, as for the CLI)."""
        self.daemon = daemon
        self.credentials = credentials
        self.launcher = launcher or DialogLauncher()
        self.autostart = _autostart_backend() if autostart == "auto" else autostart
        self.open_folder = open_folder
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="tray-actions", daemon=True)
        self._snap = Snapshot()
        self._autostart_on: bool | None = None
        self._captcha_id: str | None = None
        self._stopping = threading.Event()
        self._flows: list[threading.Thread] = []  # _flows_lock: dialog journeys under way
        self._flows_lock = threading.Lock()
        self.icon = icon_factory(self.on_intent, self.on_popup)
        self.view: TrayView | None = None

    # --- state -> view --------------------------------------------------------------------------

    def render(self, snap: Snapshot) -> TrayView:
        view = build_view(
            snap,
            autostart=self._autostart_on,
            autostart_available=self.autostart is not None,
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
            self._submit(lambda: self._follow_up(old, snap))

    def _follow_up(self, old: Snapshot, snap: Snapshot) -> None:
        """Changes nobody is waiting on in a dialog: a new captcha (the CLI or an expiry asked
        for it), a waiting sign-in that met a captcha, a captcha that is no longer needed.
        What a user's own sign-in leads to is decided where it ran (:meth:`_after`)."""
        if snap.state is State.CAPTCHA_REQUIRED:
            if self.launcher.current("captcha") is not None:
                self._push_captcha()
            elif old.waiting_for_seat:
                # "Wait for a free session" met a captcha: the user asked for this sign-in.
                self.open_captcha()
        elif old.state is State.CAPTCHA_REQUIRED:
            self._close_dialog("captcha")

    # --- intents (tray thread) -> worker ---------------------------------------------------------

    def _submit(self, job: Callable[[], None]) -> None:
        self._jobs.put(job)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except Exception:
                log.exception("tray action failed")

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every queued action and dialog journey ran (shutdown, tests); True if
        done in time."""
        deadline = time.monotonic() + timeout
        while True:
            done = threading.Event()
            self._submit(done.set)
            if not done.wait(max(0.0, deadline - time.monotonic())):
                return False
            with self._flows_lock:
                flows = [t for t in self._flows if t.is_alive()]
                self._flows = flows
            if not flows:
                return True
            for t in flows:
                t.join(max(0.0, deadline - time.monotonic()))
                if t.is_alive():
                    return False

    @staticmethod
    def _guarded(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except Exception:
                log.exception("tray action failed")

        return run

    def on_intent(self, intent: Intent, arg: str | None = None) -> None:
        """A menu click. Runs on the tray's thread: hand it off and return at once."""
        self._submit(lambda: self.handle(intent, arg))

    def on_notice_action(self, action_id: str) -> None:
        intent = NOTICE_ACTIONS.get(action_id)
        if intent is None:
            log.warning("unknown notification action %s", action_id)
            return
        self.on_intent(intent)

    def on_popup(self) -> None:
        """Backends without a menu: show the same menu as a popup at the pointer."""
        self._submit(self.open_popup)

    def handle(self, intent: Intent, arg: str | None = None) -> None:
        snap = self._snap
        post = self.daemon.post
        if intent is Intent.STATUS:
            intent = status_intent(snap)
        if intent is Intent.SIGN_IN:
            self.open_login()
        elif intent is Intent.SIGN_OUT:
            post(commands.SignOut())
        elif intent is Intent.CAPTCHA:
            self.open_captcha()
        elif intent is Intent.RESOLVE_LIMIT:
            self.open_sessions()
        elif intent is Intent.SESSIONS:
            # Listing asks the server (up to the daemon's timeout): keep other clicks moving.
            self._spawn(self.open_sessions)
        elif intent is Intent.CANCEL_WAIT:
            post(commands.CancelWait())
        elif intent is Intent.SWITCH_SERVER and arg:
            if arg != snap.server:
                self.switch_server(arg)
        elif intent is Intent.MANAGE_SERVERS:
            self.open_servers()
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

    # --- dialogs --------------------------------------------------------------------------------

    def _request(self, **data: Any) -> Json:
        return {"language": i18n.current_language(), **data}

    def _close_dialog(self, name: str) -> None:
        h = self.launcher.current(name)
        if h is not None:
            h.close()

    def open_popup(self) -> None:
        view = self.view
        if view is None:
            return

        def to_json(e: MenuEntry) -> Json:
            return {
                "key": e.key,
                "text": e.text,
                "enabled": e.enabled,
                "checked": e.checked,
                "radio": e.radio,
                "separator": e.separator,
                "children": [to_json(c) for c in e.children],
            }

        def answered(ans: Json) -> None:
            if ans.get("action") != "select":
                return
            entry = view.find(str(ans.get("key")))
            if entry is not None and entry.intent is not None:
                self.on_intent(entry.intent, entry.arg)

        self.launcher.open("menu", self._request(items=[to_json(e) for e in view.menu]), answered)

    def _connections(self) -> list[Any]:
        try:
            from vms_tray.connections.store import ConnectionStore

            return list(ConnectionStore().load().connections)
        except Exception as exc:
            log.warning("could not read the server list: %s", exc)
            return []

    def _has_password(self, name: str) -> bool:
        fn = getattr(self.daemon, "has_password", None)
        try:
            if callable(fn):
                return bool(fn(name))
            from vms_tray.credentials import open_credentials

            return open_credentials().has(name)
        except Exception:
            return False

    def switch_server(self, name: str) -> None:
        """Servers ▸ NAME. With a stored password the switch runs at once; without one the
        sign-in dialog asks first, and the current session stays until the user confirms
        (Cancel changes nothing)."""
        if not self._has_password(name):
            self.open_login(server=name)
            return

        def run() -> None:
            after = self._run(commands.SwitchServer(name), SIGN_IN_TIMEOUT)
            if after.step is Step.ERROR:
                self.open_login(server=name, error=after.error)
            else:
                self._after(after, None)

        self._spawn(run)

    def open_login(self, error: Json | None = None, server: str | None = None) -> None:
        snap = self._snap
        conns = self._connections()
        servers = [
            {
                "name": c.name,
                "login": c.login,
                "default": c.default,
                "saved_password": self._has_password(c.name),
            }
            for c in conns
        ]
        if error is None and server is None and snap.state is State.ERROR and snap.last_error:
            error = error_info(snap.last_error)  # the icon was clicked after a failure
        chosen = server or snap.server
        login = snap.login if chosen == snap.server else None
        working = snap.state in (State.SIGNED_IN, State.RECONNECTING)
        request = self._request(
            servers=servers,
            server=chosen,
            login=login,
            error=error,
            live=True,
            switching_from=snap.server if working else None,
        )

        def event(ev: Json) -> None:
            if ev.get("event") == "submit":
                self._spawn(lambda: self._login_submitted(ev))

        self.launcher.open("login", request, self._login_answered, event)

    def _login_answered(self, ans: Json) -> None:
        if ans.get("action") == "manage_servers":
            self.open_servers()

    def _login_submitted(self, ev: Json) -> None:
        """The sign-in dialog's "Sign in": run it, then close the dialog or show the error."""
        server = str(ev.get("server") or "") or None
        fingerprint = ev.get("trust_fingerprint")
        if server and fingerprint:
            self._pin_certificate(server, str(fingerprint))
        password = ev.get("password")
        command = commands.SignIn(
            server=server,
            login=str(ev.get("login") or "") or None,
            password=str(password) if password else None,
            remember=bool(ev.get("remember")),
        )
        self._after(self._run(command, SIGN_IN_TIMEOUT), "login")

    def _run(self, command: commands.Command, timeout: float) -> Next:
        """Run a user's command to its end (this thread waits; the tray's never does)."""
        try:
            self.daemon.execute(command, timeout)
        except VmsTrayError as exc:
            log.info("%s refused: %s", type(command).__name__, exc)
            return next_step(self.daemon.snapshot(), failure=str(exc))
        return next_step(self.daemon.snapshot())

    def _after(self, after: Next, dialog: str | None) -> None:
        """Show what ``after`` needs; ``dialog``: the one the user acted in (kept on errors)."""
        if after.step is Step.ERROR:
            h = self.launcher.current(dialog) if dialog else None
            if h is None or not h.send_update({"error": after.error}):
                self.open_login(error=after.error)
            self._withdraw_notice(SIGN_IN_NOTICE)  # the dialog says it; one place is enough
            return
        if dialog is not None and not (dialog == "captcha" and after.step is Step.CAPTCHA):
            self._close_dialog(dialog)
        if after.step is Step.CAPTCHA:
            if self.launcher.current("captcha") is not None:
                self._push_captcha(force=True)
            else:
                self.open_captcha()
            self._withdraw_notice(SIGN_IN_NOTICE)
        elif after.step is Step.SESSIONS:
            self.open_sessions()

    def _withdraw_notice(self, topic: str) -> None:
        """A dialog on screen now shows what the notice on ``topic`` said: take it back."""
        notifier = getattr(self.daemon, "notifier", None)
        withdraw = getattr(notifier, "withdraw", None)
        if callable(withdraw):
            withdraw(topic)

    def _spawn(self, job: Callable[[], None]) -> None:
        """A job that waits on the daemon, off the action worker so other clicks go on."""
        t = threading.Thread(target=self._guarded(job), name="tray-flow", daemon=True)
        with self._flows_lock:
            self._flows.append(t)
        t.start()

    def _pin_certificate(self, server: str, fingerprint: str) -> None:
        from vms_tray.connections.model import Trust
        from vms_tray.connections.store import ConnectionStore

        ConnectionStore().update(
            lambda lst: lst.edit(server, trust=Trust(mode="pinned", pin_sha256=fingerprint))
        )
        log.info("pinned the certificate of %s", server)
        self.daemon.post(commands.ReloadConfig())

    def _captcha(self) -> Any:
        fn = getattr(self.daemon, "captcha", None)
        try:
            return fn() if callable(fn) else None
        except Exception:
            log.exception("could not get the captcha from the daemon")
            return None

    def _captcha_json(self, captcha: Any) -> Json:
        return {
            "image_png_b64": base64.b64encode(captcha.image_png).decode("ascii"),
            "expires_in": float(captcha.expires_in),
            "error": captcha_message(self.daemon.snapshot().captcha_reason),
        }

    def _push_captcha(self, force: bool = False) -> None:
        """Show the daemon's captcha in the open dialog, if it is a new one (or ``force``:
        the answer to the dialog's own Refresh or wrong answer, which re-enables it)."""
        h = self.launcher.current("captcha")
        captcha = self._captcha()
        if h is None or captcha is None or (captcha.id == self._captcha_id and not force):
            return
        self._captcha_id = captcha.id
        h.send_update(self._captcha_json(captcha))

    def open_captcha(self) -> None:
        captcha = self._captcha()
        if captcha is None:
            log.info("no captcha to show")
            return
        self._captcha_id = captcha.id
        request = self._request(
            server=self._snap.server or "",
            live=True,
            refresh_timeout=CAPTCHA_TIMEOUT,
            **self._captcha_json(captcha),
        )

        def event(ev: Json) -> None:
            if ev.get("event") == "answer" and ev.get("answer"):
                answer = str(ev["answer"])
                self._spawn(lambda: self._captcha_answered(answer))
            elif ev.get("event") == "refresh":
                self._spawn(self._refresh_captcha)

        self.launcher.open("captcha", request, lambda _a: None, event)

    def _captcha_answered(self, answer: str) -> None:
        after = self._run(commands.AnswerCaptcha(answer), SIGN_IN_TIMEOUT)
        if after.step is Step.ERROR:
            # Not about the picture (a wrong password, the network): the sign-in dialog says it.
            self._close_dialog("captcha")
            self.open_login(error=after.error)
            self._withdraw_notice(SIGN_IN_NOTICE)  # the sign-in dialog says it
            return
        self._after(after, "captcha")

    def _refresh_captcha(self) -> None:
        """The dialog's Refresh (or its countdown ran out): a new picture, or an error that
        gives the Refresh button back."""
        try:
            self.daemon.execute(commands.RefreshCaptcha(), CAPTCHA_TIMEOUT)
        except VmsTrayError as exc:
            log.info("no new captcha: %s", exc)
            h = self.launcher.current("captcha")
            if h is not None:
                h.send_update({"refresh_failed": True, "error": str(exc)})
            return
        self._push_captcha(force=True)

    def _session_list(self) -> Any:
        """What the sessions dialog shows: in a limit conflict the list the server sent with
        it (no request), otherwise a fresh list (this worker waits; the tray thread never)."""
        if self._snap.state is State.LIMIT_REACHED:
            conflict = getattr(self.daemon, "conflict_sessions", None)
            if callable(conflict):
                listing = conflict()
                if listing is not None:
                    return listing
        fn = getattr(self.daemon, "sessions", None)
        if not callable(fn):
            return None
        try:
            return fn()
        except Exception as exc:
            log.warning("could not list the sessions: %s", exc)
            return None

    def open_sessions(self) -> None:
        snap = self._snap
        listing = self._session_list()
        sessions = getattr(listing, "sessions", listing) if listing is not None else ()
        limit = getattr(listing, "limit", None)
        request = self._request(
            server=snap.server or "",
            conflict=snap.state is State.LIMIT_REACHED,
            max=limit.max if limit is not None else snap.max_sessions,
            active=limit.active if limit is not None else snap.sessions_in_use,
            now=_iso(datetime.now(UTC)),
            sessions=[s.to_json() for s in sessions or ()],
        )

        def answered(ans: Json) -> None:
            if ans.get("action") == "end" and ans.get("session_id"):
                self.daemon.post(commands.EndSession(str(ans["session_id"])))
            elif ans.get("action") == "wait":
                self.daemon.post(commands.WaitForSeat())

        self.launcher.open("sessions", request, answered)

    def open_servers(self) -> None:
        from vms_tray.connections.model import KNOWN_KINDS
        from vms_tray.dialogs.connections import connection_to_json

        request = self._request(
            connections=[connection_to_json(c) for c in self._connections()],
            kinds=list(KNOWN_KINDS),
        )
        self.launcher.open("connections", request, self._servers_answered)

    def _servers_answered(self, ans: Json) -> None:
        if ans.get("action") != "save":
            return
        from vms_tray.connections.rules import ConnectionList, ListChanges
        from vms_tray.connections.store import ConnectionStore
        from vms_tray.credentials import follow_changes
        from vms_tray.dialogs.connections import connection_from_json

        def original(d: Json) -> str | None:
            # A row without the key (an older dialog): a connection keeps its name.
            value = d["original"] if "original" in d else d.get("name")
            return str(value) if value else None

        rows = [(original(d), connection_from_json(d)) for d in ans.get("connections") or []]
        changes = ListChanges({})

        def change(old: ConnectionList) -> ConnectionList:
            nonlocal changes
            new, changes = old.replaced(rows)
            return new

        ConnectionStore().update(change)
        self.daemon.post(commands.ReloadConfig())
        try:
            # The same rule as 'vms-tray servers edit --name' / 'servers remove'.
            follow_changes(changes, self.credentials)
        except Exception as exc:  # the list is saved; only the passwords lag behind
            log.error("could not update the stored passwords: %s", exc)

    def open_about(self) -> None:
        view = self.view
        snap = self._snap
        details = [line for line in (view.tooltip.splitlines()[1:] if view else [])]
        request = self._request(
            version=__version__,
            status=view.status if view else "",
            details=details if snap.state is not State.SIGNED_OUT else [],
            log_dir=str(paths.log_dir()),
        )
        self.launcher.open("about", request, lambda _a: None)

    # --- autostart ------------------------------------------------------------------------------

    def _read_autostart(self) -> None:
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
            if self._autostart_on:
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

    def _hook_notifier(self) -> None:
        on_show = getattr(self.daemon, "on_show", None)
        notifier = getattr(self.daemon, "notifier", None)
        if callable(on_show):
            # The daemon owns the notifier's action handler and forwards what needs a window.
            on_show(self.on_show)
        elif notifier is not None and callable(getattr(notifier, "on_action", None)):
            notifier.on_action(self.on_notice_action)
        attach = getattr(notifier, "attach", None)
        if callable(attach) and self.icon.has_notification:
            attach(self.icon.notify)

    def start(self) -> None:
        """Everything but the blocking loop (tests drive this with a fake icon)."""
        self._worker.start()
        self._read_autostart()
        self._snap = self.daemon.snapshot()
        self.render(self._snap)
        self.daemon.subscribe(self.on_snapshot)
        # The daemon replays a request made before this (the start-up "sign_in") to on_show.
        self._hook_notifier()
        on_stop = getattr(self.daemon, "on_stop", None)
        if callable(on_stop):
            # 'vms-tray quit', a signal to the runner, a notification: the tray goes too.
            on_stop(self.on_daemon_stopped)
        if getattr(self.daemon, "stopped", False):
            self.on_daemon_stopped()  # it stopped before the icon was up

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
        self._shutdown_worker()

    def quit(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        log.info("quitting")
        try:
            self.daemon.post(commands.Quit())
        finally:
            threading.Thread(target=self.launcher.close_all, daemon=True).start()
            self.icon.stop()

    def _shutdown_worker(self) -> None:
        self._jobs.put(None)
        if self._worker.is_alive() and threading.current_thread() is not self._worker:
            self._worker.join(timeout=5)


def run_tray(daemon: Daemon) -> None:
    """Show the tray icon for ``daemon`` and block until the user quits (main thread)."""
    i18n.install()
    app = TrayApp(daemon)
    log.info("tray started (language %s)", i18n.current_language())
    app.run()
