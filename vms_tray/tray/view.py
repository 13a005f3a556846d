"""The tray as a pure function of a ``Snapshot``: icon name, tooltip, status line and menu model.

Nothing here touches pystray, threads or I/O, so every state can be unit-tested. ``icon.py``
turns a :class:`MenuModel` into pystray objects; ``app.py`` maps each :class:`Intent` to a
command for the daemon or a dialog.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from vms_tray.assets import IconName
from vms_tray.i18n import _, ngettext
from vms_tray.session.failures import FailureKind
from vms_tray.session.snapshot import Snapshot, State
from vms_tray.text import limit_as_of

# Windows truncates tray tooltips at 127 characters; keep every platform consistent.
TOOLTIP_MAX = 127


class Intent(StrEnum):
    STATUS = "status"  # the default (left-click) action
    SIGN_IN = "sign_in"
    SIGN_OUT = "sign_out"
    CAPTCHA = "captcha"
    RESOLVE_LIMIT = "resolve_limit"
    CANCEL_WAIT = "cancel_wait"
    SWITCH_SERVER = "switch_server"
    MANAGE_SERVERS = "manage_servers"
    SESSIONS = "sessions"
    TOGGLE_AUTOSTART = "toggle_autostart"
    OPEN_LOG = "open_log"
    ABOUT = "about"
    QUIT = "quit"


@dataclass(frozen=True)
class MenuEntry:
    """One menu item. ``separator`` entries have no text; ``children`` make a submenu."""

    text: str = ""
    intent: Intent | None = None
    arg: str | None = None
    enabled: bool = True
    checked: bool | None = None  # None: not a check item
    radio: bool = False
    default: bool = False
    separator: bool = False
    children: tuple[MenuEntry, ...] = field(default_factory=tuple)

    @property
    def key(self) -> str:
        """A stable identifier for tests and the popup menu: intent[:arg]."""
        if self.separator:
            return "-"
        base = self.intent.value if self.intent else "label"
        return f"{base}:{self.arg}" if self.arg is not None else base


SEPARATOR = MenuEntry(separator=True)


@dataclass(frozen=True)
class TrayView:
    icon: IconName
    tooltip: str
    status: str
    menu: tuple[MenuEntry, ...]

    def find(self, key: str) -> MenuEntry | None:
        """Depth-first lookup by :attr:`MenuEntry.key`."""
        stack = list(self.menu)
        while stack:
            entry = stack.pop(0)
            if entry.key == key:
                return entry
            stack[0:0] = list(entry.children)
        return None


_SIGNED_IN_STATES = (State.SIGNED_IN, State.RECONNECTING)
_TRUST_KINDS = (FailureKind.CHANGED, FailureKind.UNTRUSTED)
_BUSY_STATES = (State.SIGNING_IN, State.CAPTCHA_REQUIRED, State.LIMIT_REACHED)


def icon_for(snap: Snapshot) -> IconName:
    if snap.state is State.SIGNED_IN:
        if snap.full or snap.handover_deadline is not None:
            return IconName.SIGNED_IN_FULL
        if snap.near_limit:
            return IconName.NEAR_LIMIT
        return IconName.SIGNED_IN
    if snap.state in (State.SIGNING_IN, State.CAPTCHA_REQUIRED):
        return IconName.CONNECTING
    if snap.state is State.LIMIT_REACHED:
        return IconName.LIMIT_REACHED
    if snap.state is State.RECONNECTING:
        return IconName.OFFLINE
    if snap.state is State.ERROR:
        return IconName.ERROR
    return IconName.SIGNED_OUT  # SIGNED_OUT, ENDED


def sessions_text(snap: Snapshot) -> str | None:
    """``"3 of 5 sessions"``, or ``None`` when the server reports no limit."""
    if snap.sessions_in_use is None:
        return None
    if snap.max_sessions is None:
        return ngettext("%(n)d session", "%(n)d sessions", snap.sessions_in_use) % {
            "n": snap.sessions_in_use
        }
    return ngettext("%(n)d of %(max)d session", "%(n)d of %(max)d sessions", snap.max_sessions) % {
        "n": snap.sessions_in_use,
        "max": snap.max_sessions,
    }


def status_text(snap: Snapshot) -> str:
    server = snap.server or _("no server")
    login = snap.login or ""
    s = snap.state
    if s is State.SIGNED_IN:
        if snap.handover_deadline is not None:
            return _("%(device)s needs this seat: it ends at %(time)s") % {
                "device": snap.handover_by or _("another device"),
                "time": snap.handover_deadline.astimezone().strftime("%H:%M:%S"),
            }
        if snap.full:
            return _("Signed in to %(server)s — all seats in use") % {"server": server}
        return _("Signed in to %(server)s as %(login)s") % {"server": server, "login": login}
    if s is State.SIGNING_IN:
        return _("Signing in to %(server)s…") % {"server": server}
    if s is State.CAPTCHA_REQUIRED:
        return _("%(server)s asks for a captcha") % {"server": server}
    if s is State.LIMIT_REACHED:
        if snap.waiting_for_seat and snap.handover_asked_until is not None:
            # Our side of a handover (protocol v1.1): the seat is held for us once it is free.
            return _("Waiting for %(device)s to hand over its seat (by %(time)s)…") % {
                "device": snap.handover_asked_of or _("another device"),
                "time": snap.handover_asked_until.astimezone().strftime("%H:%M:%S"),
            }
        if snap.waiting_for_seat and snap.queue_position is not None:
            # The server's queue (protocol v1.1): a place in line, 1 being the next seat.
            return _("Waiting for a free session on %(server)s: number %(n)d in line…") % {
                "server": server,
                "n": snap.queue_position,
            }
        if snap.waiting_for_seat:
            return _("Waiting for a free session on %(server)s…") % {"server": server}
        return _("Session limit reached on %(server)s") % {"server": server}
    if s is State.RECONNECTING:
        if snap.error is not None and snap.error.kind in _TRUST_KINDS:
            return _("%(server)s: certificate not trusted — retrying") % {"server": server}
        return _("%(server)s is unreachable — retrying") % {"server": server}
    if s is State.ENDED:
        if snap.ended_by:
            return _("Session ended from %(device)s") % {"device": snap.ended_by}
        return _("Session ended by the server")
    if s is State.ERROR:
        return _("Error: %(error)s") % {"error": snap.error.message if snap.error else _("unknown")}
    return _("Signed out")


def tooltip_text(snap: Snapshot) -> str:
    lines = ["vms-tray"]
    if snap.server:
        lines.append(_("Server: %(server)s") % {"server": snap.server})
    if snap.login:
        lines.append(_("Login: %(login)s") % {"login": snap.login})
    sessions = sessions_text(snap)
    if snap.limit_as_of is not None and snap.max_sessions is not None and sessions:
        # A limit learnt earlier (AIPIX states it only in a 419): say since when.
        sessions = limit_as_of(snap.sessions_in_use or 0, snap.max_sessions, snap.limit_as_of)
    if sessions and snap.state in (*_SIGNED_IN_STATES, State.LIMIT_REACHED):
        lines.append(sessions)
    if snap.state is not State.SIGNED_IN or len(lines) == 1 or snap.handover_deadline:
        lines.append(status_text(snap))
    text = "\n".join(lines)
    if len(text) > TOOLTIP_MAX:
        text = text[: TOOLTIP_MAX - 1] + "…"
    return text


def _sign_entry(snap: Snapshot) -> MenuEntry:
    s = snap.state
    if s is State.CAPTCHA_REQUIRED:
        return MenuEntry(_("Enter captcha…"), Intent.CAPTCHA)
    if s is State.LIMIT_REACHED:
        if snap.waiting_for_seat:
            return MenuEntry(_("Stop waiting"), Intent.CANCEL_WAIT)
        return MenuEntry(_("Free a session…"), Intent.RESOLVE_LIMIT)
    if s in (*_SIGNED_IN_STATES, State.SIGNING_IN):
        if snap.handover_deadline is not None:
            # Someone waits for this seat: giving it now is signing out (their sign-in follows).
            return MenuEntry(_("Release this seat now"), Intent.SIGN_OUT)
        if not snap.sign_out_frees_seat:
            # ZoneMinder: its logout frees nothing; say so where the user decides.
            return MenuEntry(
                _("Sign out (frees nothing: the token stays valid until it expires)"),
                Intent.SIGN_OUT,
            )
        return MenuEntry(_("Sign out"), Intent.SIGN_OUT)
    return MenuEntry(_("Sign in…"), Intent.SIGN_IN)


def _servers_entry(snap: Snapshot) -> MenuEntry:
    current = snap.server
    if current is None:
        current = next((c.name for c in snap.servers if c.default), None)
    children: list[MenuEntry] = [
        MenuEntry(
            choice.name,
            Intent.SWITCH_SERVER,
            arg=choice.name,
            checked=choice.name == current,
            radio=True,
        )
        for choice in snap.servers
    ]
    if children:
        children.append(SEPARATOR)
    children.append(MenuEntry(_("Manage servers…"), Intent.MANAGE_SERVERS))
    return MenuEntry(_("Servers"), children=tuple(children))


def build_view(
    snap: Snapshot,
    *,
    autostart: bool | None = None,
    autostart_available: bool = True,
    autostart_forced: bool = False,
) -> TrayView:
    """Everything the tray shows for ``snap``.

    ``autostart`` overrides ``snap.autostart`` with what the autostart backend reports (the
    tray reads it locally); ``autostart_available`` greys the item out where no backend exists;
    ``autostart_forced`` (the administrator's force_autostart) shows it ticked and greyed out.
    """
    status = status_text(snap)
    sessions_ok = snap.can_list_sessions and snap.state in (
        *_SIGNED_IN_STATES,
        State.LIMIT_REACHED,
    )
    status_line = status
    sessions = sessions_text(snap)
    if sessions and snap.state in _SIGNED_IN_STATES:
        status_line = f"{status} ({sessions})"
    menu = (
        # The status line doubles as the default (left-click) action where the backend has one.
        MenuEntry(status_line, Intent.STATUS, default=True),
        SEPARATOR,
        _sign_entry(snap),
        _servers_entry(snap),
        MenuEntry(_("Sessions…"), Intent.SESSIONS, enabled=sessions_ok),
        SEPARATOR,
        MenuEntry(
            _("Start at login (required by your administrator)")
            if autostart_forced
            else _("Start at login"),
            Intent.TOGGLE_AUTOSTART,
            checked=True
            if autostart_forced
            else (snap.autostart if autostart is None else autostart),
            enabled=autostart_available and not autostart_forced,
        ),
        MenuEntry(_("Open log folder"), Intent.OPEN_LOG),
        MenuEntry(_("About"), Intent.ABOUT),
        SEPARATOR,
        MenuEntry(_("Quit"), Intent.QUIT),
    )
    return TrayView(icon=icon_for(snap), tooltip=tooltip_text(snap), status=status, menu=menu)


def status_intent(snap: Snapshot) -> Intent:
    """What a left click (the status line) should open in this state."""
    s = snap.state
    if s is State.CAPTCHA_REQUIRED:
        return Intent.CAPTCHA
    if s is State.LIMIT_REACHED:
        return Intent.RESOLVE_LIMIT
    if s in (State.SIGNED_OUT, State.ENDED, State.ERROR):
        return Intent.SIGN_IN
    if s in _SIGNED_IN_STATES and snap.can_list_sessions:
        return Intent.SESSIONS
    return Intent.ABOUT
