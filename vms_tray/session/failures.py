"""Problems as data: what stopped a sign-in or a session, built once from the exception.

Views (tray, dialogs, the status CLI) decide by ``Failure.kind`` and show ``Failure.message``;
none of them parses the English of a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vms_tray.errors import (
    CertificateChanged,
    CertificateUntrusted,
    CredentialError,
    InvalidCredentials,
    NetworkError,
    VmsTrayError,
)


class FailureKind(StrEnum):
    """What kind of problem stopped a sign-in or a session: views choose their words by it."""

    CREDENTIALS = "credentials"  # the password was refused, or there is none to sign in with
    UNTRUSTED = "untrusted"  # first contact with a certificate nobody vouches for
    CHANGED = "changed"  # the pinned certificate was replaced
    UNREACHABLE = "unreachable"  # the server does not answer (vms-tray retries)
    OTHER = "other"


@dataclass(frozen=True)
class Failure:
    """A problem as data, built once from the exception that reported it, so no view has to
    parse English: ``message`` is for people, the other fields are for decisions.

    ``fingerprint`` is the certificate the user may choose to trust (the presented one);
    ``pinned``/``presented`` are both sides of a changed certificate."""

    kind: FailureKind
    message: str
    fingerprint: str | None = None
    pinned: str | None = None
    presented: str | None = None


def failure_of(exc: VmsTrayError) -> Failure:
    """The one translation of our exceptions into a Failure (its message is ``str(exc)``)."""
    message = str(exc)
    if isinstance(exc, CertificateChanged):
        return Failure(
            FailureKind.CHANGED,
            message,
            fingerprint=exc.presented,
            pinned=exc.pinned,
            presented=exc.presented,
        )
    if isinstance(exc, CertificateUntrusted):
        return Failure(FailureKind.UNTRUSTED, message, fingerprint=exc.fingerprint)
    if isinstance(exc, InvalidCredentials | CredentialError):
        return Failure(FailureKind.CREDENTIALS, message)
    if isinstance(exc, NetworkError):
        return Failure(FailureKind.UNREACHABLE, message)
    return Failure(FailureKind.OTHER, message)
