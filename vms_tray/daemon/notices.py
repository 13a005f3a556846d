"""Words for the engine's notification topics: plain numbers, the server's name, no secrets."""

from __future__ import annotations

from vms_tray.notify.base import Action, Notice, NoticeKind
from vms_tray.session.engine import Notify, Topic

SHOW_SESSIONS = "show_sessions"
SIGN_IN = "sign_in"
SHOW_CAPTCHA = "show_captcha"

_SESSIONS = Action(SHOW_SESSIONS, "Show sessions")
_SIGN_IN = Action(SIGN_IN, "Sign in")


def seats(in_use: int | None, maximum: int | None) -> str:
    """ "2 of 3 sessions in use — 1 seat left"."""
    if in_use is None:
        return "sessions in use unknown"
    if maximum is None:
        return f"{in_use} session{'s' if in_use != 1 else ''} in use (no limit)"
    left = maximum - in_use
    tail = "no seats left" if left <= 0 else f"{left} seat{'s' if left != 1 else ''} left"
    return f"{in_use} of {maximum} sessions in use — {tail}"


def render(effect: Notify, server: str) -> Notice:
    t, n, m, d = effect.topic, effect.in_use, effect.max_sessions, effect.detail
    if t is Topic.NEAR_LIMIT:
        return Notice(NoticeKind.NEAR_LIMIT, f"{server}: almost full", seats(n, m), (_SESSIONS,))
    if t is Topic.LIMIT_FULL:
        return Notice(
            NoticeKind.LIMIT_FULL, f"{server}: session limit reached", seats(n, m), (_SESSIONS,)
        )
    if t is Topic.BACK_UNDER:
        return Notice(NoticeKind.BACK_UNDER, f"{server}: seats free again", seats(n, m))
    if t is Topic.ENDED_ELSEWHERE:
        body = (
            f"Your session was ended from {d}"
            if d and " (" in d
            else (f"Your session on {server} ended ({d or 'ended by the server'})")
        )
        return Notice(NoticeKind.ENDED_ELSEWHERE, f"{server}: signed out", body, (_SIGN_IN,))
    if t is Topic.SESSION_EXPIRED:
        return Notice(
            NoticeKind.ENDED_ELSEWHERE,
            f"{server}: signed out",
            f"Your session on {server} expired; sign in again to continue",
            (_SIGN_IN,),
        )
    if t is Topic.UNREACHABLE:
        return Notice(
            NoticeKind.UNREACHABLE,
            f"{server} does not answer",
            f"{d or 'no answer'} — retrying, the session is kept",
        )
    if t is Topic.BACK_ONLINE:
        return Notice(NoticeKind.BACK_ONLINE, f"{server} answers again", "Session kept")
    if t is Topic.CAPTCHA:
        return Notice(
            NoticeKind.NEEDS_ATTENTION,
            f"{server}: captcha required",
            "Type the characters shown to finish signing in "
            "('vms-tray captcha save FILE', then 'vms-tray captcha answer CODE')",
            (Action(SHOW_CAPTCHA, "Show captcha"),),
        )
    if t is Topic.LIMIT_CONFLICT:
        return Notice(
            NoticeKind.NEEDS_ATTENTION,
            f"{server}: no free session",
            f"{seats(n, m)}: end one of them or wait for a seat",
            (_SESSIONS,),
        )
    if t is Topic.SEAT_FREED:
        return Notice(NoticeKind.INFO, f"{server}: a seat freed up", "Signed in")
    if t is Topic.PASSWORD_REJECTED:
        return Notice(
            NoticeKind.PASSWORD_REJECTED,
            f"{server}: password no longer works",
            f"{d or 'The server refused the stored password'}; sign in again",
            (_SIGN_IN,),
        )
    if t is Topic.SIGN_IN_FAILED:
        return Notice(
            NoticeKind.NEEDS_ATTENTION,
            f"{server}: sign-in failed",
            d or "The server refused the sign-in",
            (_SIGN_IN,),
        )
    return Notice(
        NoticeKind.NEEDS_ATTENTION, f"{server}: stopped", d or "An error stopped the session"
    )


def password_needed(server: str) -> Notice:
    return Notice(
        NoticeKind.NEEDS_ATTENTION,
        f"{server}: password needed",
        "No password is stored: sign in from the menu or run 'vms-tray signin'",
        (_SIGN_IN,),
    )


def already_running() -> Notice:
    return Notice(NoticeKind.INFO, "vms-tray is running", "Another start asked it to show itself")
