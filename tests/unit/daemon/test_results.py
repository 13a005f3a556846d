"""Server answers and errors become engine events in one place (the failures themselves:
tests/unit/session/test_failures.py)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from vms_tray.daemon import results
from vms_tray.errors import (
    AccessDenied,
    BadResponse,
    CertificateChanged,
    CertificateUntrusted,
    EndedBy,
    InvalidCredentials,
    LoginThrottled,
    ProtocolError,
    ServerBusy,
    SessionEnded,
    TokenExpired,
    Unsupported,
)
from vms_tray.session import engine as E
from vms_tray.session.failures import Failure, FailureKind
from vms_tray.session.records import Handover, Limit, SessionEntry, SessionList

FP = ":".join(["AB", "01"] * 16)


def test_a_failed_sign_in() -> None:
    event = results.sign_in_failed(InvalidCredentials("refused"), "HQ")
    assert isinstance(event, E.SignInRejected) and event.credentials
    event = results.sign_in_failed(ServerBusy("busy", 30), "HQ")
    assert event == E.NetworkFailed(Failure(FailureKind.UNREACHABLE, "busy"), 30)
    assert isinstance(results.sign_in_failed(LoginThrottled("slow down"), "HQ"), E.SignInRejected)
    event = results.sign_in_failed(CertificateUntrusted("untrusted", fingerprint=FP), "HQ")
    assert isinstance(event, E.SignInRejected) and not event.credentials
    assert event.failure.fingerprint == FP
    assert isinstance(results.sign_in_failed(ProtocolError("odd"), "HQ"), E.Failed)


def test_a_foreign_exception_is_named_by_class_only(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        event = results.sign_in_failed(KeyError("secret-token"), "HQ")
    assert isinstance(event, E.Failed)
    assert "KeyError" in event.failure.message and "secret" not in event.failure.message
    # While keeping a session alive, a bug is retried like an outage.
    assert isinstance(results.poll_failed(ValueError("x"), None, "HQ"), E.NetworkFailed)


def test_token_expired_means_the_access_token_in_a_poll_and_the_session_in_a_refresh() -> None:
    assert results.poll_failed(TokenExpired("expired"), None, "HQ") == E.AccessExpired()
    assert results.refresh_failed(TokenExpired("expired"), None, "HQ") == E.RefreshExpired()


def test_keepalive_failures() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    entry = SessionEntry("s1", "OPS-PC-12", "vms-tray", "1.0", "10.0.0.2", at, at, False, False)
    listing = SessionList(Limit("account", 3, 2), (entry,))
    ended = SessionEnded("ended", "ended-elsewhere", EndedBy("OPS-PC-12", "vms-tray"))
    event = results.refresh_failed(ended, listing, "HQ")
    assert event == E.SessionLost("ended-elsewhere", "OPS-PC-12 (vms-tray 1.0)")
    assert results.poll_failed(AccessDenied("no"), None, "HQ") == E.SessionLost("no")
    assert isinstance(results.poll_failed(BadResponse("html"), None, "HQ"), E.NetworkFailed)
    assert isinstance(results.poll_failed(Unsupported("no"), None, "HQ"), E.Failed)
    event = results.poll_failed(ProtocolError("odd"), None, "HQ")
    assert event == E.NetworkFailed(Failure(FailureKind.OTHER, "odd"))


def test_answers() -> None:
    listing = SessionList(Limit("account", 3, 2), ())
    assert results.polled(listing, probe=False) == E.Polled(2, 3)
    assert results.polled(listing, probe=True) == E.ServerAnswered(2, 3)
    assert results.polled(None, probe=False) == E.Polled(None, None)


def test_a_handover_asked_of_our_session_becomes_seconds_left() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    asked = Handover(datetime(2026, 1, 1, 0, 1, tzinfo=UTC), "OPS-PC-13")
    mine = SessionEntry("s1", "me", "vms-tray", "1.0", "", at, at, False, True, handover=asked)
    theirs = replace(mine, id="s2", current=False)
    listing = SessionList(Limit("account", 1, 1), (mine,))
    event = results.polled(listing, probe=False, wall=at.timestamp() + 15)
    assert event == E.Polled(1, 1, handover_in=45.0, handover_by="OPS-PC-13")
    # Another session's handover is not ours to announce.
    other = SessionList(Limit("account", 2, 2), (replace(mine, handover=None), theirs))
    assert results.polled(other, probe=False, wall=at.timestamp()) == E.Polled(2, 2)


def test_a_trust_failure_keeps_a_held_session_but_stops_a_sign_in() -> None:
    changed = CertificateChanged("HQ", "AA:" * 31 + "AA", "BB:" * 31 + "BB")
    assert isinstance(results.poll_failed(changed, None, "HQ"), E.TrustFailed)
    assert isinstance(results.refresh_failed(changed, None, "HQ"), E.TrustFailed)
    assert isinstance(results.sign_in_failed(changed, "HQ"), E.SignInRejected)
