"""Answers control-socket requests (``vms_tray.control``) from the daemon's thread-safe API.

Runs on the control server's request threads; never touches the engine directly.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from vms_tray import __version__
from vms_tray import commands as C
from vms_tray.control import Request
from vms_tray.daemon.link import NO_SESSIONS
from vms_tray.daemon.worker import Daemon
from vms_tray.errors import ControlError, EngineError, InvalidInput, PasswordNeeded, Unsupported


def _text(req: Request, key: str, required: bool = True) -> str | None:
    value = req.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{key} is missing")
    return value


class ControlHandler:
    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon

    def __call__(self, req: Request) -> Any:
        cmd = req["cmd"]
        method = getattr(self, "do_" + cmd.replace("-", "_"), None)
        if method is None:
            raise ControlError(
                f"unknown control command {cmd!r}: is the CLI newer than the daemon?"
            )
        return method(req)

    def do_ping(self, req: Request) -> Any:
        return {"pid": os.getpid(), "version": __version__}

    def do_status(self, req: Request) -> Any:
        s = self.daemon.snapshot()
        return {
            "state": s.state.value,
            "server": s.server,
            "login": s.login,
            "kind": s.kind,
            "sessions_in_use": s.sessions_in_use,
            "max_sessions": s.max_sessions,
            "expires_in": None if s.expires_in is None else round(s.expires_in, 1),
            # The CLI's words: the message; the kind for scripts that decide by it.
            "last_error": s.error.message if s.error else None,
            "error_kind": s.error.kind.value if s.error else None,
            "ended_by": s.ended_by,
            "waiting_for_seat": s.waiting_for_seat,
            "queue_position": s.queue_position,
            "handover_deadline": s.handover_deadline.isoformat() if s.handover_deadline else None,
            "handover_by": s.handover_by or None,
            "handover_asked_until": (
                s.handover_asked_until.isoformat() if s.handover_asked_until else None
            ),
            "handover_asked_of": s.handover_asked_of or None,
            "can_list_sessions": s.can_list_sessions,
            "sign_out_frees_seat": s.sign_out_frees_seat,
            "servers": [c.name for c in s.servers],
            "captcha_reason": s.captcha_reason,
            "limit_as_of": s.limit_as_of.isoformat() if s.limit_as_of else None,
        }

    def do_signin(self, req: Request) -> Any:
        server = _text(req, "server", required=False)
        password = req.get("password")
        if password is not None and not isinstance(password, str):
            raise InvalidInput("password must be text")
        command = C.SignIn(server=server, password=password, remember=bool(req.get("remember")))
        return self._sign_in(command)

    def do_signout(self, req: Request) -> Any:
        self.daemon.post(C.SignOut())

    def do_switch(self, req: Request) -> Any:
        name = _text(req, "name")
        assert name is not None
        password = req.get("password")
        if password is not None and not isinstance(password, str):
            raise InvalidInput("password must be text")
        command = C.SwitchServer(name, password=password, remember=bool(req.get("remember")))
        return self._sign_in(command)

    def _sign_in(self, command: C.SignIn | C.SwitchServer) -> Any:
        """The daemon decides whether the password is needed (not when signed in there already);
        it refuses before anything ends, and the CLI asks on its terminal and sends it back."""
        try:
            self.daemon.execute(command, timeout=60)
        except PasswordNeeded:
            if command.password is not None:
                raise
            return {"password_required": True}
        return {"password_required": False}

    def do_passwords(self, req: Request) -> Any:
        names = req.get("names")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise InvalidInput("names must be a list of server names")
        return self.daemon.passwords_stored(names[:1000])

    def do_quit(self, req: Request) -> Any:
        self.daemon.post(C.Quit())

    def do_show(self, req: Request) -> Any:
        self.daemon.post(C.ShowWindow())

    def do_check(self, req: Request) -> Any:
        self.daemon.post(C.CheckNow())

    def do_reload(self, req: Request) -> Any:
        self.daemon.post(C.ReloadConfig())

    def do_wait(self, req: Request) -> Any:
        self.daemon.execute(C.WaitForSeat())

    def do_cancel_wait(self, req: Request) -> Any:
        self.daemon.execute(C.CancelWait())

    def do_sessions(self, req: Request) -> Any:
        snap = self.daemon.snapshot()
        if not snap.can_list_sessions:
            raise Unsupported(NO_SESSIONS)
        return self.daemon.sessions().to_json()

    def do_end_session(self, req: Request) -> Any:
        session_id = _text(req, "id")
        assert session_id is not None
        self.daemon.end_session(session_id)

    def do_handover(self, req: Request) -> Any:
        session_id = _text(req, "id")
        assert session_id is not None
        return {"deadline": self.daemon.request_handover(session_id).isoformat()}

    def do_captcha(self, req: Request) -> Any:
        captcha = self.daemon.captcha()
        if captcha is None:
            raise EngineError("no captcha is waiting: 'vms-tray status' shows the state")
        return {
            "id": captcha.id,
            "png": base64.b64encode(captcha.image_png).decode("ascii"),
            "expires_in": round(captcha.expires_in, 1),
        }

    def do_captcha_refresh(self, req: Request) -> Any:
        self.daemon.execute(C.RefreshCaptcha())

    def do_captcha_answer(self, req: Request) -> Any:
        code = _text(req, "code")
        assert code is not None
        self.daemon.execute(C.AnswerCaptcha(code), timeout=60)
