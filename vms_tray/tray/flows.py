"""What the user sees after acting in a dialog: pure decisions for the tray's dialog journeys.

The sign-in and captcha dialogs stay open while the daemon works on what was typed. The tray
runs the command to its end (``Daemon.execute``, on a thread of its own) and then asks
:func:`next_step` what the state it led to needs: close the dialog (signed in), turn it into the
captcha or the sessions dialog, or show the error inline in the same dialog (a wrong password
keeps the dialog and selects the password field). Nothing here does I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from vms_tray.i18n import _
from vms_tray.session.snapshot import Snapshot, State

Json = dict[str, Any]

# How long a dialog waits on the daemon: a sign-in may make a few requests, each bounded by
# the daemon's own request timeout (15 s by default); a new captcha is one request.
SIGN_IN_TIMEOUT = 60.0
CAPTCHA_TIMEOUT = 20.0


class Step(StrEnum):
    DONE = "done"  # signed in: close the dialog
    CAPTCHA = "captcha"  # the server wants the characters of a picture
    SESSIONS = "sessions"  # no free session: the User Sessions window
    ERROR = "error"  # show the error in the dialog the user is in


@dataclass(frozen=True)
class Next:
    step: Step
    error: Json | None = None


_FP = r"[0-9A-F]{2}(?::[0-9A-F]{2}){31}"
_UNTRUSTED_FP = re.compile(rf"SHA-256 ({_FP})")
_PRESENTED_FP = re.compile(rf"presented ({_FP})")


def error_info(message: str) -> Json:
    """Classify the daemon's one-line error for the sign-in dialog (kind + fingerprint).

    The messages come from vms_tray.kinds (TLS: "(SHA-256 AB:..)", "presented AB:.."); the
    worst case of a wording change is a plain inline message without the trust choice."""
    low = message.lower()
    if "certificate" in low and "not the pinned one" in low:
        m = _PRESENTED_FP.search(message)
        return {"kind": "changed", "message": message, "fingerprint": m.group(1) if m else None}
    if "certificate" in low:
        m = _UNTRUSTED_FP.search(message)
        if m:
            return {"kind": "untrusted", "message": message, "fingerprint": m.group(1)}
        return {"kind": "other", "message": message, "fingerprint": None}
    if "password" in low or "credential" in low:
        kind = "credentials"
    elif any(w in low for w in ("unreachable", "timed out", "connect", "resolve", "no answer")):
        kind = "unreachable"
    else:
        kind = "other"
    return {"kind": kind, "message": message, "fingerprint": None}


def next_step(snap: Snapshot, failure: str | None = None) -> Next:
    """After a sign-in, captcha answer or switch ran to its end: what the user sees next.

    ``failure``: the command itself was refused (its one-line message)."""
    if failure is not None:
        return Next(Step.ERROR, error_info(failure))
    if snap.state is State.SIGNED_IN:
        return Next(Step.DONE)
    if snap.state is State.CAPTCHA_REQUIRED:
        return Next(Step.CAPTCHA)
    if snap.state is State.LIMIT_REACHED:
        return Next(Step.SESSIONS)
    if snap.state is State.RECONNECTING:
        # A network fault during the sign-in: the daemon retries, the dialog says why.
        message = snap.last_error or _("the server does not answer; vms-tray will retry")
        return Next(Step.ERROR, {**error_info(message), "kind": "unreachable"})
    return Next(Step.ERROR, error_info(snap.last_error or _("signing in failed")))


def captcha_message(reason: str | None) -> str | None:
    """Why a (new) picture is shown: the previous answer was wrong, or it expired."""
    if reason == "invalid":
        return _("Wrong characters, try the new picture.")
    if reason == "expired":
        return _("That picture expired, type the characters of the new one.")
    return None
