"""The tray's dialog journeys: sign-in (and switching servers), captcha, user sessions.

Each opens its dialog with what the daemon knows now and turns what the user does in it into a
command. The sign-in and captcha dialogs stay open while the command runs to its end (on a
thread of its own, :meth:`Jobs.spawn`); :func:`vms_tray.tray.flows.next_step` then decides what
the user sees: the dialog closes, turns into the captcha or the sessions dialog, or shows the
error inline.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from vms_tray import commands
from vms_tray.connections.policy import load_policy
from vms_tray.errors import VmsTrayError
from vms_tray.session.records import Captcha, SessionList
from vms_tray.session.snapshot import Snapshot, State
from vms_tray.tray.connections_dialog import ConnectionsDialog
from vms_tray.tray.dialog_host import DialogHost
from vms_tray.tray.flows import (
    CAPTCHA_TIMEOUT,
    SIGN_IN_TIMEOUT,
    Next,
    Step,
    captcha_message,
    error_info,
    next_step,
)
from vms_tray.tray.jobs import Jobs
from vms_tray.tray.ports import DaemonPort, Json

log = logging.getLogger(__name__)

# The notices' topic for what a sign-in waits for (vms_tray.session.effects.Subject.SIGN_IN).
SIGN_IN_NOTICE = "sign_in"


def _remember_forbidden() -> str | None:
    """The policy file while it forbids keeping passwords (forbid_remember_password)."""
    policy = load_policy()
    return str(policy.path) if policy.forbid_remember_password else None


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


class DialogFlows:
    def __init__(
        self,
        daemon: DaemonPort,
        dialogs: DialogHost,
        servers: ConnectionsDialog,
        jobs: Jobs,
        snapshot: Callable[[], Snapshot],
    ) -> None:
        """``snapshot``: the last one the tray showed (what the user clicked on)."""
        self.daemon = daemon
        self.dialogs = dialogs
        self.servers = servers
        self.jobs = jobs
        self._shown = snapshot
        self._captcha_id: str | None = None  # the picture the captcha dialog shows

    def follow_up(self, old: Snapshot, snap: Snapshot) -> None:
        """Changes nobody is waiting on in a dialog: a new captcha (the CLI or an expiry asked
        for it), a waiting sign-in that met a captcha, a captcha that is no longer needed.
        What a user's own sign-in leads to is decided where it ran (:meth:`_after`)."""
        if snap.state is State.CAPTCHA_REQUIRED:
            if self.dialogs.current("captcha") is not None:
                self._push_captcha()
            elif old.waiting_for_seat:
                # "Wait for a free session" met a captcha: the user asked for this sign-in.
                self.open_captcha()
        elif old.state is State.CAPTCHA_REQUIRED:
            self.dialogs.close("captcha")

    # --- sign-in --------------------------------------------------------------------------------

    def _has_password(self, name: str) -> bool:
        try:
            return self.daemon.has_password(name)
        except Exception:  # an unreadable keyring or list: the dialog asks for the password
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

        self.jobs.spawn(run)

    def open_login(self, error: Json | None = None, server: str | None = None) -> None:
        snap = self._shown()
        servers = [
            {
                "name": c.name,
                "login": c.login,
                "default": c.default,
                "saved_password": self._has_password(c.name),
            }
            for c in self.servers.connections()
        ]
        if error is None and server is None and snap.state is State.ERROR and snap.error:
            error = error_info(snap.error)  # the icon was clicked after a failure
        chosen = server or snap.server
        login = snap.login if chosen == snap.server else None
        working = snap.state in (State.SIGNED_IN, State.RECONNECTING)
        data = {
            "servers": servers,
            "remember_forbidden": _remember_forbidden(),
            "server": chosen,
            "login": login,
            "error": error,
            "live": True,
            "switching_from": snap.server if working else None,
        }

        def event(ev: Json) -> None:
            if ev.get("event") == "submit":
                self.jobs.spawn(lambda: self._login_submitted(ev))

        self.dialogs.open("login", data, self._login_answered, event)

    def _login_answered(self, ans: Json) -> None:
        if ans.get("action") == "manage_servers":
            self.servers.open()

    def _login_submitted(self, ev: Json) -> None:
        """The sign-in dialog's "Sign in": run it, then close the dialog or show the error."""
        server = str(ev.get("server") or "") or None
        fingerprint = ev.get("trust_fingerprint")
        if server and fingerprint:
            self.servers.pin_certificate(server, str(fingerprint))
        password = ev.get("password")
        command = commands.SignIn(
            server=server,
            login=str(ev.get("login") or "") or None,
            password=str(password) if password else None,
            # The policy, not the dialog, has the last word (read again: it may have changed).
            remember=bool(ev.get("remember")) and _remember_forbidden() is None,
        )
        self._after(self._run(command, SIGN_IN_TIMEOUT), "login")

    def _run(self, command: commands.Command, timeout: float) -> Next:
        """Run a user's command to its end (this thread waits; the tray's never does)."""
        try:
            self.daemon.execute(command, timeout)
        except VmsTrayError as exc:
            log.info("%s refused: %s", type(command).__name__, exc)
            return next_step(self.daemon.snapshot(), failure=exc)
        return next_step(self.daemon.snapshot())

    def _after(self, after: Next, dialog: str | None) -> None:
        """Show what ``after`` needs; ``dialog``: the one the user acted in (kept on errors)."""
        if after.step is Step.ERROR:
            h = self.dialogs.current(dialog) if dialog else None
            if h is None or not h.send_update({"error": after.error}):
                self.open_login(error=after.error)
            self._withdraw_notice(SIGN_IN_NOTICE)  # the dialog says it; one place is enough
            return
        if dialog is not None and not (dialog == "captcha" and after.step is Step.CAPTCHA):
            self.dialogs.close(dialog)
        if after.step is Step.CAPTCHA:
            if self.dialogs.current("captcha") is not None:
                self._push_captcha(force=True)
            else:
                self.open_captcha()
            self._withdraw_notice(SIGN_IN_NOTICE)
        elif after.step is Step.SESSIONS:
            self.open_sessions()

    def _withdraw_notice(self, topic: str) -> None:
        """A dialog on screen now shows what the notice on ``topic`` said: take it back."""
        self.daemon.notifier.withdraw(topic)

    # --- captcha --------------------------------------------------------------------------------

    def _captcha(self) -> Captcha | None:
        try:
            return self.daemon.captcha()
        except Exception:
            log.exception("could not get the captcha from the daemon")
            return None

    def _captcha_json(self, captcha: Captcha) -> Json:
        return {
            "image_png_b64": base64.b64encode(captcha.image_png).decode("ascii"),
            "expires_in": float(captcha.expires_in),
            "error": captcha_message(self.daemon.snapshot().captcha_reason),
        }

    def _push_captcha(self, force: bool = False) -> None:
        """Show the daemon's captcha in the open dialog, if it is a new one (or ``force``:
        the answer to the dialog's own Refresh or wrong answer, which re-enables it)."""
        h = self.dialogs.current("captcha")
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
        data = {
            "server": self._shown().server or "",
            "live": True,
            "refresh_timeout": CAPTCHA_TIMEOUT,
            **self._captcha_json(captcha),
        }

        def event(ev: Json) -> None:
            if ev.get("event") == "answer" and ev.get("answer"):
                answer = str(ev["answer"])
                self.jobs.spawn(lambda: self._captcha_answered(answer))
            elif ev.get("event") == "refresh":
                self.jobs.spawn(self._refresh_captcha)

        self.dialogs.open("captcha", data, lambda _a: None, event)

    def _captcha_answered(self, answer: str) -> None:
        after = self._run(commands.AnswerCaptcha(answer), SIGN_IN_TIMEOUT)
        if after.step is Step.ERROR:
            # Not about the picture (a wrong password, the network): the sign-in dialog says it.
            self.dialogs.close("captcha")
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
            h = self.dialogs.current("captcha")
            if h is not None:
                h.send_update({"refresh_failed": True, "error": str(exc)})
            return
        self._push_captcha(force=True)

    # --- sessions -------------------------------------------------------------------------------

    def _session_list(self) -> SessionList | None:
        """What the sessions dialog shows: in a limit conflict the list the server sent with
        it (no request), otherwise a fresh list (this worker waits; the tray thread never)."""
        if self._shown().state is State.LIMIT_REACHED:
            listing = self.daemon.conflict_sessions()
            if listing is not None:
                return listing
        try:
            return self.daemon.sessions()
        except Exception as exc:
            log.warning("could not list the sessions: %s", exc)
            return None

    def open_sessions(self, error: str | None = None) -> None:
        snap = self._shown()
        listing = self._session_list()
        limit = listing.limit if listing is not None else None
        data = {
            "server": snap.server or "",
            "conflict": snap.state is State.LIMIT_REACHED,
            "handover": snap.can_hand_over,
            "max": limit.max if limit is not None else snap.max_sessions,
            "active": limit.active if limit is not None else snap.sessions_in_use,
            "max_as_of": _iso(limit.as_of) if limit is not None and limit.as_of else None,
            "next_free_at": _iso(limit.next_free_at) if limit and limit.next_free_at else None,
            "now": _iso(datetime.now(UTC)),
            "sessions": [s.to_json() for s in listing.sessions] if listing is not None else [],
            "error": error,
        }

        def answered(ans: Json) -> None:
            if ans.get("action") == "end" and ans.get("session_id"):
                self.daemon.post(commands.EndSession(str(ans["session_id"])))
            elif ans.get("action") == "wait":
                self.daemon.post(commands.WaitForSeat())
            elif ans.get("action") == "handover" and ans.get("session_id"):
                self._ask_handover(str(ans["session_id"]))

        self.dialogs.open("sessions", data, answered)

    def _ask_handover(self, session_id: str) -> None:
        try:
            self.daemon.execute(commands.RequestHandover(session_id))
        except VmsTrayError as exc:
            # Nothing changed: the sign-in still waits at the limit; the window says why.
            log.warning("could not ask for a handover: %s", exc)
            self.open_sessions(error=str(exc))
