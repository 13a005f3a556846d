"""Words for the engine's notification topics: plain numbers, the server's name, no secrets.

The one place notices are worded (the engine decides *when*). Every string goes through the
catalog (``vms_tray.i18n``), so words are looked up when a notice is made, in the language the
process chose. A ``detail`` is one of our error messages: it already says what happened and what
to do, so it is shown as it is, never with a second "sign in again" after it.
"""

from __future__ import annotations

from vms_tray.i18n import _, ngettext
from vms_tray.notify.base import Action, Notice, NoticeKind
from vms_tray.session.engine import Notify, Topic

SHOW_SESSIONS = "show_sessions"
SIGN_IN = "sign_in"
SHOW_CAPTCHA = "show_captcha"


def _show_sessions() -> Action:
    return Action(SHOW_SESSIONS, _("Show sessions"))


def _sign_in() -> Action:
    return Action(SIGN_IN, _("Sign in"))


def seats(in_use: int | None, maximum: int | None) -> str:
    """ "2 of 3 sessions in use — 1 seat left"."""
    if in_use is None:
        return _("sessions in use unknown")
    if maximum is None:
        return ngettext(
            "%(n)d session in use (no limit)", "%(n)d sessions in use (no limit)", in_use
        ) % {"n": in_use}
    # The noun follows the limit ("of 3 sessions"); the count in use needs no agreement.
    used = ngettext(
        "%(n)d of %(max)d session in use", "%(n)d of %(max)d sessions in use", maximum
    ) % {"n": in_use, "max": maximum}
    left = maximum - in_use
    if left <= 0:
        tail = _("no seats left")
    else:
        tail = ngettext("%(n)d seat left", "%(n)d seats left", left) % {"n": left}
    return _("%(in_use)s — %(left)s") % {"in_use": used, "left": tail}


def render(effect: Notify, server: str) -> Notice:
    t, n, m, d = effect.topic, effect.in_use, effect.max_sessions, effect.detail
    s = {"server": server}
    if t is Topic.NEAR_LIMIT:
        title = _("%(server)s: almost full") % s
        return Notice(NoticeKind.NEAR_LIMIT, title, seats(n, m), (_show_sessions(),))
    if t is Topic.LIMIT_FULL:
        return Notice(
            NoticeKind.LIMIT_FULL,
            _("%(server)s: session limit reached") % s,
            seats(n, m),
            (_show_sessions(),),
        )
    if t is Topic.BACK_UNDER:
        return Notice(NoticeKind.BACK_UNDER, _("%(server)s: seats free again") % s, seats(n, m))
    if t is Topic.ENDED_ELSEWHERE:
        if d and " (" in d:  # "OPS-PC-12 (vms-tray 1.0)": the device that ended it
            body = _("Your session was ended from %(device)s") % {"device": d}
        else:
            body = _("Your session on %(server)s ended (%(reason)s)") % {
                "server": server,
                "reason": d or _("ended by the server"),
            }
        return Notice(
            NoticeKind.ENDED_ELSEWHERE, _("%(server)s: signed out") % s, body, (_sign_in(),)
        )
    if t is Topic.SESSION_EXPIRED:
        return Notice(
            NoticeKind.ENDED_ELSEWHERE,
            _("%(server)s: signed out") % s,
            _("Your session on %(server)s expired; sign in again to continue") % s,
            (_sign_in(),),
        )
    if t is Topic.UNREACHABLE:
        return Notice(
            NoticeKind.UNREACHABLE,
            _("%(server)s does not answer") % s,
            _("%(error)s — retrying, the session is kept") % {"error": d or _("no answer")},
        )
    if t is Topic.BACK_ONLINE:
        return Notice(NoticeKind.BACK_ONLINE, _("%(server)s answers again") % s, _("Session kept"))
    if t is Topic.CAPTCHA:
        return Notice(
            NoticeKind.NEEDS_ATTENTION,
            _("%(server)s: captcha required") % s,
            _(
                "Type the characters shown to finish signing in "
                "('vms-tray captcha save FILE', then 'vms-tray captcha answer CODE')"
            ),
            (Action(SHOW_CAPTCHA, _("Show captcha")),),
        )
    if t is Topic.LIMIT_CONFLICT:
        return Notice(
            NoticeKind.NEEDS_ATTENTION,
            _("%(server)s: no free session") % s,
            _("%(sessions)s: end one of them or wait for a seat") % {"sessions": seats(n, m)},
            (_show_sessions(),),
        )
    if t is Topic.SEAT_FREED:
        return Notice(NoticeKind.INFO, _("%(server)s: a seat freed up") % s, _("Signed in"))
    if t is Topic.PASSWORD_REJECTED:
        return Notice(
            NoticeKind.PASSWORD_REJECTED,
            _("%(server)s: password no longer works") % s,
            d or _("The server refused the stored password: sign in again"),
            (_sign_in(),),
        )
    if t is Topic.SIGN_IN_FAILED:
        return sign_in_failed(server, d or _("The server refused the sign-in"))
    return Notice(
        NoticeKind.NEEDS_ATTENTION,
        _("%(server)s: stopped") % s,
        d or _("An error stopped the session"),
    )


def sign_in_failed(server: str, detail: str) -> Notice:
    return Notice(
        NoticeKind.NEEDS_ATTENTION,
        _("%(server)s: sign-in failed") % {"server": server},
        detail,
        (_sign_in(),),
    )


def password_needed(server: str) -> Notice:
    return Notice(
        NoticeKind.NEEDS_ATTENTION,
        _("%(server)s: password needed") % {"server": server},
        _("No password is stored: sign in from the menu or run 'vms-tray signin'"),
        (_sign_in(),),
    )


def already_running() -> Notice:
    return Notice(
        NoticeKind.INFO, _("vms-tray is running"), _("Another start asked it to show itself")
    )
