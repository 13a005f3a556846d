"""Text vms-tray shows: what came from a server made harmless, and commands a user can paste.

``printable(text)`` neutralises what a server could use to take over a terminal or mislead a
reader: C0 and C1 control characters (ESC, BEL, CR, LF, TAB, ...), DEL, the Unicode line and
paragraph separators, and the bidirectional formatting characters (``U+202E`` RIGHT-TO-LEFT
OVERRIDE and its kin, the "Trojan Source" characters). Each is replaced by its escape (``\\x1b``,
``\\u202e``), so the text stays on one line, shows what was there and cannot act. The CLI applies
it to everything it prints; dialogs and notifications use it for server strings too; the server
kinds apply it to the session lists they parse, where device and software names enter the client.
It is idempotent: ``printable(printable(s)) == printable(s)``.

``command_line(*args)`` is the one way a message suggests a command line: ``vms-tray`` and the
arguments, each quoted for a POSIX shell where it needs it (``vms-tray servers trust 'Склад №2
камеры'``), so the line can be pasted as it is. A message puts it where no quote of its own
surrounds it (after a colon, or in parentheses): the command line's own quotes are the only ones.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from vms_tray.i18n import _, ngettext

__all__ = [
    "PROGRAM",
    "ago",
    "command_line",
    "limit_as_of",
    "parse_time",
    "printable",
    "recommended",
]

PROGRAM = "vms-tray"

# C0, DEL and C1; U+061C ARABIC LETTER MARK; U+200E/U+200F LRM/RLM; U+2028/U+2029 line and
# paragraph separators; U+202A-U+202E embeddings and overrides; U+2066-U+2069 isolates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with control and bidi-formatting characters replaced by their escapes."""
    return _UNSAFE.sub(_escape, text)


def command_line(*args: str) -> str:
    """``vms-tray ARGS…`` as a user can paste it into a shell (arguments quoted as needed)."""
    return shlex.join((PROGRAM, *args))


def limit_as_of(in_use: int, maximum: int, seen: datetime | str) -> str:
    """ "3 sessions in use (limit 4, as of 2026-05-12)": a limit learnt earlier that may be stale
    (AIPIX states it only in a 419). ``seen``: when, as a datetime or an RFC 3339 string. The one
    wording of it, for the CLI, the sessions window, the tooltip and the notices."""
    if isinstance(seen, str):
        try:
            when: datetime | None = datetime.fromisoformat(seen.replace("Z", "+00:00"))
        except ValueError:
            when = None
        day = when.astimezone().strftime("%Y-%m-%d") if when else seen[:10]
    else:
        day = seen.astimezone().strftime("%Y-%m-%d")
    return ngettext(
        "%(n)d session in use (limit %(max)d, as of %(day)s)",
        "%(n)d sessions in use (limit %(max)d, as of %(day)s)",
        in_use,
    ) % {"n": in_use, "max": maximum, "day": day}


# Seat counts in words, shared by notices, the CLI and the tray: here, so that 'vms-tray status'
# words them without importing the daemon (CLI start-up, issue 13).


def used(in_use: int | None, maximum: int | None) -> str:
    """ "2 of 3 sessions in use"."""
    if in_use is None:
        return _("sessions in use unknown")
    if maximum is None:
        return ngettext(
            "%(n)d session in use (no limit)", "%(n)d sessions in use (no limit)", in_use
        ) % {"n": in_use}
    # The noun follows the limit ("of 3 sessions"); the count in use needs no agreement.
    return ngettext(
        "%(n)d of %(max)d session in use", "%(n)d of %(max)d sessions in use", maximum
    ) % {"n": in_use, "max": maximum}


def seats_left(left: int) -> str:
    """ "1 seat left" / "no seats left"."""
    if left <= 0:
        return _("no seats left")
    return ngettext("%(n)d seat left", "%(n)d seats left", left) % {"n": left}


def seats(in_use: int | None, maximum: int | None) -> str:
    """ "2 of 3 sessions in use — 1 seat left"."""
    if in_use is None or maximum is None:
        return used(in_use, maximum)
    return _("%(in_use)s — %(left)s") % {
        "in_use": used(in_use, maximum),
        "left": seats_left(maximum - in_use),
    }


# The account's sessions as the User Sessions window and 'vms-tray sessions' show them: one
# recommendation and one "5 min ago" for both (the CLI must not import the dialog's Tk).


def parse_time(ts: Any) -> datetime:
    """An RFC 3339 time of a session listing (no zone: UTC); one that does not parse is the
    oldest time there is, so it sorts as the least recent."""
    try:
        dt = datetime.fromisoformat(str(ts).replace("Z", "+00:00"))
    except ValueError:
        return datetime.fromtimestamp(0, UTC)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def recommended(sessions: Sequence[Mapping[str, Any]]) -> str | None:
    """The id of the session to end first: an idle one before an active one, then the oldest
    activity (unknown counts as the oldest), then the oldest start. Never our own."""
    others = [s for s in sessions if not s.get("current")]
    if not others:
        return None
    best = min(
        others,
        key=lambda s: (
            not s.get("idle"),
            parse_time(s.get("last_activity")),
            parse_time(s.get("started_at")),
        ),
    )
    return str(best["id"])


def ago(ts: Any, now: datetime) -> str:
    """ "5 min ago" for a session's last activity; "unknown" when the server does not say."""
    if not ts:
        return _("unknown")
    seconds = max(0, int((now - parse_time(ts)).total_seconds()))
    if seconds < 60:
        return _("just now")
    minutes = seconds // 60
    if minutes < 60:
        return ngettext("%(n)d min ago", "%(n)d min ago", minutes) % {"n": minutes}
    hours = minutes // 60
    if hours < 48:
        return ngettext("%(n)d hour ago", "%(n)d hours ago", hours) % {"n": hours}
    days = hours // 24
    return ngettext("%(n)d day ago", "%(n)d days ago", days) % {"n": days}
