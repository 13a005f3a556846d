"""Words for the engine's notification topics: plain numbers, the server's name, no secrets.

The one place notices are worded (the engine decides *when*, and when to withdraw them). Every
string goes through the catalog (``vms_tray.i18n``), so words are looked up when a notice is
made, in the language the process chose. A ``detail`` is one of our error messages: it already
says what happened and what to do, so it is shown as it is, never with a second "sign in again"
or "retrying" after it.

Each notice also gets here its ``topic`` (the engine's ``Subject``: one notice per topic on
screen), its urgency (critical only when the session was taken by another device and when the
limit blocks a sign-in), how long it stays, and the icon of the state it reports. ``cli``:
nobody can click (``vms-tray run --headless``), so the notice names the commands instead of
offering buttons.
"""

from __future__ import annotations

from vms_tray.assets import IconName
from vms_tray.commands import Command, SignOut, WaitForSeat
from vms_tray.i18n import _, ngettext
from vms_tray.notify.base import Action, Notice, NoticeKind, Urgency
from vms_tray.session.effects import CAPTCHA_EACH_TRY, WAITING
from vms_tray.session.engine import Notify, Subject, Topic
from vms_tray.text import seats, seats_left, used

SHOW_SESSIONS = "show_sessions"
SIGN_IN = "sign_in"
SHOW_CAPTCHA = "show_captcha"
WAIT_FOR_SEAT = "wait_for_seat"
RELEASE_SEAT = "release_seat"
# Buttons that are one command each (a handover's "Release now" signs out: the seat is theirs).
COMMANDS: dict[str, Command] = {WAIT_FOR_SEAT: WaitForSeat(), RELEASE_SEAT: SignOut()}

# Seconds on screen. Critical notices stay until dismissed or withdrawn.
INFO_EXPIRES = 8.0  # back online
FYI_EXPIRES = 10.0  # a seat freed up, seats free again
NORMAL_EXPIRES = 20.0

# The state each topic reports (its icon; see vms_tray.tray.view.icon_for).
ICONS: dict[Topic, IconName] = {
    Topic.NEAR_LIMIT: IconName.NEAR_LIMIT,
    Topic.LIMIT_FULL: IconName.SIGNED_IN_FULL,
    Topic.BACK_UNDER: IconName.SIGNED_IN,
    Topic.ENDED_ELSEWHERE: IconName.SIGNED_OUT,
    Topic.SESSION_EXPIRED: IconName.SIGNED_OUT,
    Topic.UNREACHABLE: IconName.OFFLINE,
    Topic.UNTRUSTED: IconName.ERROR,
    Topic.BACK_ONLINE: IconName.SIGNED_IN,
    Topic.CAPTCHA: IconName.CONNECTING,
    Topic.LIMIT_CONFLICT: IconName.LIMIT_REACHED,
    Topic.SEAT_FREED: IconName.SIGNED_IN,
    Topic.PASSWORD_REJECTED: IconName.ERROR,
    Topic.SIGN_IN_FAILED: IconName.ERROR,
    Topic.FAILED: IconName.ERROR,
    Topic.HANDOVER_ASKED: IconName.NEAR_LIMIT,
    Topic.HANDED_OVER: IconName.SIGNED_OUT,
    Topic.HANDOVER_REQUESTED: IconName.LIMIT_REACHED,
}


def _show_sessions() -> Action:
    return Action(SHOW_SESSIONS, _("Show sessions"))


def _sign_in() -> Action:
    return Action(SIGN_IN, _("Sign in"))


def _notice(
    effect: Notify,
    kind: NoticeKind,
    title: str,
    body: str,
    actions: tuple[Action, ...] = (),
    urgency: Urgency = Urgency.NORMAL,
    expires: float | None = NORMAL_EXPIRES,
) -> Notice:
    return Notice(
        kind,
        title,
        body,
        actions,
        topic=effect.subject.value,
        urgency=urgency,
        expires=None if urgency is Urgency.CRITICAL else expires,
        icon=ICONS[effect.topic].value,
    )


def render(effect: Notify, server: str, cli: bool = False) -> Notice:
    t, n, m, d = effect.topic, effect.in_use, effect.max_sessions, effect.detail
    s = {"server": server}
    if t is Topic.NEAR_LIMIT:
        # "1 seat left", never "almost full": at 1 of 2 half the seats are free.
        left = seats_left(m - n) if n is not None and m is not None else used(n, m)
        title = _("%(server)s: %(left)s") % {"server": server, "left": left}
        return _notice(effect, NoticeKind.NEAR_LIMIT, title, used(n, m), (_show_sessions(),))
    if t is Topic.LIMIT_FULL:
        return _notice(
            effect,
            NoticeKind.LIMIT_FULL,
            _("%(server)s: all seats in use") % s,
            _("%(in_use)s: nobody else can sign in with this account") % {"in_use": used(n, m)},
            (_show_sessions(),),
        )
    if t is Topic.BACK_UNDER:
        return _notice(
            effect,
            NoticeKind.BACK_UNDER,
            _("%(server)s: seats free again") % s,
            seats(n, m),
            expires=FYI_EXPIRES,
        )
    if t is Topic.ENDED_ELSEWHERE:
        if d and " (" in d:  # "OPS-PC-12 (vms-tray 1.0)": the device that ended it
            body = _("Your session was ended from %(device)s") % {"device": d}
            urgency = Urgency.CRITICAL  # someone else took the seat: the one that must be seen
        else:
            body = _("Your session on %(server)s ended (%(reason)s)") % {
                "server": server,
                "reason": d or _("ended by the server"),
            }
            urgency = Urgency.NORMAL
        if cli:
            body = _("%(body)s; run 'vms-tray signin' to sign in again") % {"body": body}
        return _notice(
            effect,
            NoticeKind.ENDED_ELSEWHERE,
            _("%(server)s: signed out") % s,
            body,
            (_sign_in(),),
            urgency=urgency,
        )
    if t is Topic.SESSION_EXPIRED:
        body = _("Your session on %(server)s expired; sign in again to continue") % s
        if cli:
            body = _("Your session on %(server)s expired; run 'vms-tray signin' to continue") % s
        return _notice(
            effect,
            NoticeKind.ENDED_ELSEWHERE,
            _("%(server)s: signed out") % s,
            body,
            (_sign_in(),),
        )
    if t is Topic.UNREACHABLE:
        # Our error messages end with what vms-tray does about it ("vms-tray will retry").
        body = (
            _("%(error)s; the session is kept") % {"error": d}
            if d
            else _("No answer; retrying, the session is kept")
        )
        return _notice(effect, NoticeKind.UNREACHABLE, _("%(server)s does not answer") % s, body)
    if t is Topic.UNTRUSTED:
        title = _("%(server)s: certificate not trusted") % s
        if cli:
            # The message names both fingerprints and the command that trusts the new one.
            body = _("%(error)s. The session is kept; vms-tray tries again") % {
                "error": (d or _("The certificate is not the trusted one")).rstrip(".")
            }
        else:
            # No command lines on the desktop: the sign-in dialog shows the new fingerprint and
            # offers to trust it, after a sign-out.
            body = _(
                "The server presented a certificate that is not the trusted one, so nothing was "
                "sent. The session is kept and vms-tray tries again. If your administrator "
                "replaced the certificate, sign out and sign in again to check and trust it."
            )
        return _notice(effect, NoticeKind.UNREACHABLE, title, body)
    if t is Topic.BACK_ONLINE:
        return _notice(
            effect,
            NoticeKind.BACK_ONLINE,
            _("%(server)s answers again") % s,
            _("Session kept"),
            urgency=Urgency.LOW,
            expires=INFO_EXPIRES,
        )
    if t is Topic.CAPTCHA:
        title = _("%(server)s: captcha required") % s
        body = _("Type the characters shown to finish signing in")
        if d == WAITING:
            # A seat retry met a captcha: it waits for the user, not for a seat.
            title = _("%(server)s: captcha required to keep waiting") % s
            body = _("To try for a seat again, type the characters shown")
        if cli:
            body = _(
                "%(body)s: 'vms-tray captcha save FILE' writes the picture, "
                "'vms-tray captcha answer -' asks for them"
            ) % {"body": body}
        return _notice(
            effect,
            NoticeKind.NEEDS_ATTENTION,
            title,
            body,
            (Action(SHOW_CAPTCHA, _("Show captcha")),),
        )
    if t is Topic.LIMIT_CONFLICT and d == CAPTCHA_EACH_TRY:
        # The try after the user's captcha answer met the limit again: waiting stopped.
        body = _(
            "%(in_use)s. The server asks for a captcha at every try, so vms-tray stopped "
            "waiting: end one of them or wait again later"
        ) % {"in_use": used(n, m)}
        if cli:
            body = _(
                "%(in_use)s. The server asks for a captcha at every try, so vms-tray stopped "
                "waiting: end one ('vms-tray sessions' lists them) or wait again later "
                "('vms-tray wait')"
            ) % {"in_use": used(n, m)}
        return _notice(
            effect,
            NoticeKind.NEEDS_ATTENTION,
            _("%(server)s: still no free session") % s,
            body,
            (_show_sessions(), Action(WAIT_FOR_SEAT, _("Wait for a seat"))),
            urgency=Urgency.CRITICAL,  # you need a seat and there is none
        )
    if t is Topic.LIMIT_CONFLICT:
        if cli:
            body = _(
                "%(in_use)s: end one ('vms-tray sessions' lists them) "
                "or wait for a seat ('vms-tray wait')"
            ) % {"in_use": used(n, m)}
        else:
            body = _("%(in_use)s: end one of them or wait for a seat") % {"in_use": used(n, m)}
        return _notice(
            effect,
            NoticeKind.NEEDS_ATTENTION,
            _("%(server)s: no free session") % s,
            body,
            (_show_sessions(), Action(WAIT_FOR_SEAT, _("Wait for a seat"))),
            urgency=Urgency.CRITICAL,  # you need a seat and there is none
        )
    if t is Topic.SEAT_FREED:
        return _notice(
            effect,
            NoticeKind.INFO,
            _("%(server)s: a seat freed up") % s,
            _("Signed in"),
            expires=FYI_EXPIRES,
        )
    if t is Topic.PASSWORD_REJECTED:
        body = d or _("The server refused the stored password: sign in again")
        return _notice(
            effect,
            NoticeKind.PASSWORD_REJECTED,
            _("%(server)s: password no longer works") % s,
            body,
            (_sign_in(),),
        )
    if t is Topic.SIGN_IN_FAILED:
        return sign_in_failed(server, d or _("The server refused the sign-in"))
    if t is Topic.HANDOVER_ASKED:
        return _handover_asked(effect, server, cli)
    if t is Topic.HANDOVER_REQUESTED:
        return _handover_requested(effect, server)
    if t is Topic.HANDED_OVER:
        who = d or _("another device")
        body = _("Your session ended: its seat went to %(device)s, who asked for it") % {
            "device": who
        }
        if cli:
            body = _("%(body)s; run 'vms-tray signin' to sign in again") % {"body": body}
        return _notice(
            effect,
            NoticeKind.ENDED_ELSEWHERE,
            _("%(server)s: session handed over") % s,
            body,
            () if cli else (_sign_in(),),
        )
    return _notice(
        effect,
        NoticeKind.NEEDS_ATTENTION,
        _("%(server)s: stopped") % s,
        d or _("An error stopped the session"),
    )


def _handover_asked(effect: Notify, server: str, cli: bool) -> Notice:
    """The seed's warning before data is lost: who needs the seat, how long is left, and the
    way to give it at once."""
    who = effect.detail or _("Another device")
    secs = max(0, round(effect.seconds or 0))
    body = ngettext(
        "%(device)s needs this seat. This session ends in %(n)d second — save your work.",
        "%(device)s needs this seat. This session ends in %(n)d seconds — save your work.",
        secs,
    ) % {"device": who, "n": secs}
    if cli:
        body = _("%(body)s 'vms-tray signout' releases it now.") % {"body": body}
    return _notice(
        effect,
        NoticeKind.NEEDS_ATTENTION,
        _("%(server)s: your seat is needed") % {"server": server},
        body,
        () if cli else (Action(RELEASE_SEAT, _("Release now")),),
        urgency=Urgency.CRITICAL,  # unsaved work is at stake: it stays until the session ends
    )


def _handover_requested(effect: Notify, server: str) -> Notice:
    """Our side of a handover: whose seat is coming, and when at the latest."""
    who = effect.detail or _("another device")
    secs = max(0, round(effect.seconds or 0))
    body = ngettext(
        "Its user has %(n)d second to save their work; you are signed in as soon as it is free.",
        "Its user has %(n)d seconds to save their work; you are signed in as soon as it is free.",
        secs,
    ) % {"n": secs}
    return _notice(
        effect,
        NoticeKind.INFO,
        _("%(server)s: asked %(device)s to hand over") % {"server": server, "device": who},
        body,
        expires=FYI_EXPIRES,  # the tray's status says the rest until the seat comes
    )


def sign_in_failed(server: str, detail: str) -> Notice:
    return _notice(
        Notify(Topic.SIGN_IN_FAILED),
        NoticeKind.NEEDS_ATTENTION,
        _("%(server)s: sign-in failed") % {"server": server},
        detail,
        (_sign_in(),),
    )


def password_needed(server: str, cli: bool = False) -> Notice:
    if cli:
        body = _("No password is stored: run 'vms-tray signin'")
    else:
        body = _("No password is stored: sign in to store one")
    return Notice(
        NoticeKind.NEEDS_ATTENTION,
        _("%(server)s: password needed") % {"server": server},
        body,
        (_sign_in(),),
        topic=Subject.SIGN_IN.value,
        expires=NORMAL_EXPIRES,
        icon=IconName.SIGNED_OUT.value,
    )
