"""What the dialog journeys show after a command: decided from typed failures, never from text."""

from __future__ import annotations

import pytest

from vms_tray.errors import (
    CertificateChanged,
    CertificateUntrusted,
    CredentialError,
    EngineError,
    PasswordNeeded,
    ServerUnreachable,
    TrustError,
    VmsTrayError,
)
from vms_tray.session.failures import Failure, FailureKind
from vms_tray.session.snapshot import Snapshot, State
from vms_tray.tray.flows import Step, error_info, next_step

FP = ":".join(["AB", "01"] * 16)
FP2 = ":".join(["CD", "02"] * 16)


@pytest.mark.parametrize(
    ("failure", "kind", "fingerprint"),
    [
        (Failure(FailureKind.UNTRUSTED, "not trusted", fingerprint=FP), "untrusted", FP),
        (
            Failure(FailureKind.CHANGED, "not the pinned one", FP2, pinned=FP, presented=FP2),
            "changed",
            FP2,
        ),
        # Nothing to compare or trust: no trust choice, the message says it all.
        (Failure(FailureKind.UNTRUSTED, "the certificate has expired"), "other", None),
        (Failure(FailureKind.CREDENTIALS, "refused"), "credentials", None),
        (Failure(FailureKind.UNREACHABLE, "connection refused"), "unreachable", None),
        (Failure(FailureKind.OTHER, "something else"), "other", None),
    ],
)
def test_error_info_follows_the_failure_kind(
    failure: Failure, kind: str, fingerprint: str | None
) -> None:
    info = error_info(failure)
    assert info == {"kind": kind, "message": failure.message, "fingerprint": fingerprint}


def test_words_alone_never_make_a_kind() -> None:
    # The old keyword guess called this "credentials" and this "unreachable".
    assert error_info(Failure(FailureKind.OTHER, "password policy"))["kind"] == "other"
    assert error_info(Failure(FailureKind.OTHER, "cannot connect"))["kind"] == "other"


@pytest.mark.parametrize(
    ("exc", "kind", "fingerprint"),
    [
        (PasswordNeeded("no password stored for HQ"), "credentials", None),
        (CredentialError("the system keyring is locked"), "credentials", None),
        (CertificateUntrusted("untrusted", fingerprint=FP), "untrusted", FP),
        (CertificateChanged("changed", pinned=FP, presented=FP2), "changed", FP2),
        (TrustError("expired certificate"), "other", None),
        (ServerUnreachable("HQ is unreachable"), "unreachable", None),
        (EngineError("a sign-in is already in progress"), "other", None),
    ],
)
def test_a_refused_command_is_shown_by_what_it_raised(
    exc: VmsTrayError, kind: str, fingerprint: str | None
) -> None:
    after = next_step(Snapshot(state=State.SIGNED_OUT), failure=exc)
    assert after.step is Step.ERROR and after.error is not None
    assert (after.error["kind"], after.error["fingerprint"]) == (kind, fingerprint)
    assert after.error["message"] == str(exc)


def test_the_state_after_the_command_decides_the_step() -> None:
    assert next_step(Snapshot(state=State.SIGNED_IN)).step is Step.DONE
    assert next_step(Snapshot(state=State.CAPTCHA_REQUIRED)).step is Step.CAPTCHA
    assert next_step(Snapshot(state=State.LIMIT_REACHED)).step is Step.SESSIONS
    busy = Failure(FailureKind.OTHER, "HQ is busy")
    after = next_step(Snapshot(state=State.RECONNECTING, error=busy))
    assert after.error == {"kind": "unreachable", "message": "HQ is busy", "fingerprint": None}
    wrong = Failure(FailureKind.CREDENTIALS, "HQ refused the password")
    after = next_step(Snapshot(state=State.ERROR, error=wrong))
    assert after.error is not None and after.error["kind"] == "credentials"
