"""Failures as data: each exception of ours becomes one Failure, its kind chosen by class."""

from __future__ import annotations

import pytest

from vms_tray.errors import (
    AccessDenied,
    CertificateChanged,
    CertificateUntrusted,
    InvalidCredentials,
    NoSecureKeyring,
    PasswordNeeded,
    ProtocolError,
    ServerBusy,
    ServerUnreachable,
    VmsTrayError,
)
from vms_tray.session.failures import Failure, FailureKind, failure_of

FP = ":".join(["AB", "01"] * 16)
FP2 = ":".join(["CD", "02"] * 16)


def test_certificate_failures_carry_their_fingerprints_as_fields() -> None:
    changed = failure_of(CertificateChanged("changed", pinned=FP, presented=FP2))
    assert changed == Failure(FailureKind.CHANGED, "changed", FP2, pinned=FP, presented=FP2)
    untrusted = failure_of(CertificateUntrusted("untrusted", fingerprint=FP))
    assert untrusted == Failure(FailureKind.UNTRUSTED, "untrusted", fingerprint=FP)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (InvalidCredentials("refused"), FailureKind.CREDENTIALS),
        (AccessDenied("API disabled for this password"), FailureKind.OTHER),
        (ServerUnreachable("refused"), FailureKind.UNREACHABLE),
        (ServerBusy("busy", 30), FailureKind.UNREACHABLE),
        (ProtocolError("odd"), FailureKind.OTHER),
    ],
)
def test_failure_kinds_come_from_the_exception_class(exc: VmsTrayError, kind: FailureKind) -> None:
    assert failure_of(exc) == Failure(kind, str(exc))


@pytest.mark.parametrize(
    "exc", [NoSecureKeyring("no keyring"), PasswordNeeded("no password stored for HQ")]
)
def test_a_keyring_that_cannot_give_the_password_counts_as_credentials(exc: VmsTrayError) -> None:
    """The user must type the password, as when the server refused it."""
    assert failure_of(exc) == Failure(FailureKind.CREDENTIALS, str(exc))
