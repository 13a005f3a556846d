"""The notices vms-tray shows, worded and translated in one place (the daemon decides *when*)."""

from __future__ import annotations

from vms_tray.i18n import _
from vms_tray.notify.base import Action, Notice, NoticeKind

SHOW_SESSIONS = "show_sessions"
SIGN_IN = "sign_in"


def _show_sessions() -> Action:
    return Action(SHOW_SESSIONS, _("Show sessions"))


def _sign_in() -> Action:
    return Action(SIGN_IN, _("Sign in"))


def near_limit(server: str, in_use: int, maximum: int) -> Notice:
    return Notice(
        NoticeKind.NEAR_LIMIT,
        _("Almost all sessions in use"),
        _("%(n)d of %(max)d sessions are in use on %(server)s.")
        % {"n": in_use, "max": maximum, "server": server},
        (_show_sessions(),),
    )


def limit_full(server: str, maximum: int) -> Notice:
    return Notice(
        NoticeKind.LIMIT_FULL,
        _("Session limit reached"),
        _("All %(max)d sessions are in use on %(server)s: nobody else can sign in.")
        % {"max": maximum, "server": server},
        (_show_sessions(),),
    )


def back_under(server: str, in_use: int, maximum: int) -> Notice:
    return Notice(
        NoticeKind.BACK_UNDER,
        _("A session is free again"),
        _("%(n)d of %(max)d sessions are in use on %(server)s.")
        % {"n": in_use, "max": maximum, "server": server},
    )


def ended_elsewhere(server: str, device: str | None) -> Notice:
    if device:
        body = _("Your session on %(server)s was ended from %(device)s.") % {
            "server": server,
            "device": device,
        }
    else:
        body = _("Your session on %(server)s was ended by the server.") % {"server": server}
    return Notice(NoticeKind.ENDED_ELSEWHERE, _("Signed out"), body, (_sign_in(),))


def unreachable(server: str) -> Notice:
    return Notice(
        NoticeKind.UNREACHABLE,
        _("Server unreachable"),
        _("%(server)s does not answer. vms-tray keeps trying and keeps your session.")
        % {"server": server},
    )


def back_online(server: str) -> Notice:
    return Notice(
        NoticeKind.BACK_ONLINE,
        _("Server reachable again"),
        _("%(server)s answers again.") % {"server": server},
    )


def needs_attention(server: str, reason: str) -> Notice:
    """``reason``: ``captcha`` | ``password`` | ``limit``."""
    bodies = {
        "captcha": _("%(server)s asks you to solve a captcha to sign in."),
        "password": _("%(server)s needs your password to sign in."),
        "limit": _("All sessions on %(server)s are in use: end one or wait."),
    }
    body = bodies.get(reason, _("Signing in to %(server)s needs your attention.")) % {
        "server": server
    }
    actions = (_show_sessions(),) if reason == "limit" else (_sign_in(),)
    return Notice(NoticeKind.NEEDS_ATTENTION, _("Sign-in needs attention"), body, actions)


def password_rejected(server: str) -> Notice:
    return Notice(
        NoticeKind.PASSWORD_REJECTED,
        _("Password rejected"),
        _("%(server)s rejected the saved password. Sign in again.") % {"server": server},
        (_sign_in(),),
    )
