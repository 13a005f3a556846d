"""What the user sees after acting in a dialog: pure decisions for the tray's dialog journeys.

The sign-in and captcha dialogs stay open while the daemon works on what was typed. The tray
runs the command to its end (``Daemon.execute``, on a thread of its own) and then asks
:func:`next_step` what the state it led to needs: close the dialog (signed in), turn it into the
captcha or the sessions dialog, or show the error inline in the same dialog (a wrong password
keeps the dialog and selects the password field). Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from vms_tray.errors import VmsTrayError
from vms_tray.i18n import _
from vms_tray.session.failures import Failure, FailureKind, failure_of
from vms_tray.session.snapshot import Snapshot, State

Json = dict[str, Any]

# How long a dialog waits on the daemon: a sign-in may make a few requests, each bounded by
# the daemon's own request timeout (request_timeout, 10 s by default); a new captcha is one
# request, so a fetch that fails or outlasts that timeout is reported by the daemon within it,
# and CAPTCHA_TIMEOUT only guards against an answer that never comes back from the daemon.
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


def error_info(failure: Failure) -> Json:
    """The error part of a sign-in dialog request: what the dialog words and offers (the
    trust choice needs the fingerprint of the certificate presented)."""
    kind = failure.kind
    if kind is FailureKind.UNTRUSTED and failure.fingerprint is None:
        kind = FailureKind.OTHER  # nothing to compare or trust: the message says it all
    return {"kind": kind.value, "message": failure.message, "fingerprint": failure.fingerprint}


def next_step(snap: Snapshot, failure: VmsTrayError | None = None) -> Next:
    """After a sign-in, captcha answer or switch ran to its end: what the user sees next.

    ``failure``: the command itself was refused (what it raised)."""
    if failure is not None:
        return Next(Step.ERROR, error_info(failure_of(failure)))
    if snap.state is State.SIGNED_IN:
        return Next(Step.DONE)
    if snap.state is State.CAPTCHA_REQUIRED:
        return Next(Step.CAPTCHA)
    if snap.state is State.LIMIT_REACHED:
        return Next(Step.SESSIONS)
    if snap.state is State.RECONNECTING:
        # A network fault during the sign-in: the daemon retries, the dialog says why.
        message = _("the server does not answer; vms-tray will retry")
        if snap.error is not None:
            message = snap.error.message
        return Next(Step.ERROR, error_info(Failure(FailureKind.UNREACHABLE, message)))
    return Next(
        Step.ERROR, error_info(snap.error or Failure(FailureKind.OTHER, _("signing in failed")))
    )


def captcha_message(reason: str | None) -> str | None:
    """Why a (new) picture is shown: the previous answer was wrong, or it expired."""
    if reason == "invalid":
        return _("Wrong characters, try the new picture.")
    if reason == "expired":
        return _("That picture expired, type the characters of the new one.")
    return None
