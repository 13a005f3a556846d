"""What a server kind's answers mean to the engine: results and exceptions become events here, in
one place, with any failure built once as data (``session.failures.failure_of``).

Network faults (connect errors, timeouts, 5xx, 503, throttling) keep the session and retry; only
the protocol's 401 problem types end it. A trust failure stops a sign-in until the user acts,
but keeps a held session and retries, so a certificate incident costs no seat. A foreign
exception (a bug in a kind) is named by its class only: its text could carry a secret.
"""

from __future__ import annotations

import logging

from vms_tray.errors import (
    AuthError,
    InvalidCredentials,
    LoginThrottled,
    NetworkError,
    ServerError,
    SessionEnded,
    TokenExpired,
    TrustError,
    Unsupported,
)
from vms_tray.session import engine as E
from vms_tray.session.failures import Failure, FailureKind, failure_of
from vms_tray.session.records import (
    CaptchaChallenge,
    Handover,
    SessionList,
    SignedIn,
    SignInOutcome,
    Tokens,
)

log = logging.getLogger(__name__)

NO_PASSWORD = Failure(FailureKind.CREDENTIALS, "no password to sign in with: run 'vms-tray signin'")


def ended_by_text(exc: SessionEnded, known: SessionList | None = None) -> str | None:
    """ "OPS-PC-12 (vms-tray 1.0)": the protocol names device and software; the version comes
    from the last session list, where that device appeared."""
    by = exc.ended_by
    if by is None:
        return None
    software = by.software or "unknown software"
    for entry in known.sessions if known else ():
        if entry.device == by.device and entry.software == by.software and entry.version:
            software = f"{by.software} {entry.version}"
            break
    return f"{by.device} ({software})"


# --- answers -----------------------------------------------------------------------------------


def signed_in(outcome: SignInOutcome) -> E.Event:
    """A sign-in's answer: signed in, a captcha to solve, or no free seat."""
    if isinstance(outcome, SignedIn):
        limit = outcome.limit
        return E.SignInSucceeded(
            outcome.tokens.expires_in,
            limit.active if limit else None,
            limit.max if limit else None,
        )
    if isinstance(outcome, CaptchaChallenge):
        return E.CaptchaNeeded(outcome.reason)
    return E.LimitHit(
        outcome.limit.active, outcome.limit.max, queue_position=outcome.queue_position
    )


def refreshed(tokens: Tokens) -> E.Event:
    return E.Refreshed(tokens.expires_in)


def polled(listing: SessionList | None, probe: bool, wall: float = 0.0) -> E.Event:
    """A poll's answer (``listing`` None: a kind that only checks the token); ``wall``: the
    time now (epoch seconds), to turn a handover's deadline into seconds left."""
    in_use = listing.limit.active if listing else None
    maximum = listing.limit.max if listing else None
    if probe:
        return E.ServerAnswered(in_use, maximum)
    handover = handover_of(listing)
    if handover is None:
        return E.Polled(in_use, maximum)
    left = handover.deadline.timestamp() - wall
    return E.Polled(in_use, maximum, handover_in=left, handover_by=handover.requested_by)


def handover_of(listing: SessionList | None) -> Handover | None:
    """The handover asked of our own session in ``listing``, if any."""
    for entry in listing.sessions if listing else ():
        if entry.current and entry.handover is not None:
            return entry.handover
    return None


# --- failures ----------------------------------------------------------------------------------


def sign_in_failed(exc: Exception, server: str) -> E.Event:
    """What a failed sign-in means: a network fault retries, a refusal waits for the user."""
    if not isinstance(exc, ServerError):
        # A bug in a server kind must not leave us "signing in".
        return E.Failed(_unexpected(exc, server))
    if isinstance(exc, NetworkError):
        return E.NetworkFailed(failure_of(exc), exc.retry_after)
    if isinstance(exc, InvalidCredentials | AuthError | LoginThrottled | TrustError):
        return E.SignInRejected(failure_of(exc))
    return E.Failed(failure_of(exc))


def refresh_failed(exc: Exception, listing: SessionList | None, server: str) -> E.Event:
    """A refresh that failed: 401 token-expired here means the refresh material is spent."""
    if isinstance(exc, TokenExpired):
        return E.RefreshExpired()
    return _keepalive_failed(exc, listing, server)


def poll_failed(exc: Exception, listing: SessionList | None, server: str) -> E.Event:
    """A poll or probe that failed: 401 token-expired here is only the access token."""
    if isinstance(exc, TokenExpired):
        return E.AccessExpired()
    return _keepalive_failed(exc, listing, server)


def _keepalive_failed(exc: Exception, listing: SessionList | None, server: str) -> E.Event:
    """Only 401s end the session; the rest is retried."""
    if not isinstance(exc, ServerError):
        # Keep the session: the next try may work.
        return E.NetworkFailed(_unexpected(exc, server))
    if isinstance(exc, SessionEnded):
        return E.SessionLost(exc.reason or "ended", ended_by_text(exc, listing))
    if isinstance(exc, AuthError):
        return E.SessionLost(str(exc))
    if isinstance(exc, NetworkError | LoginThrottled):
        return E.NetworkFailed(failure_of(exc), exc.retry_after)
    if isinstance(exc, TrustError):
        # Keep the session and retry: it resumes when the trusted certificate is back.
        return E.TrustFailed(failure_of(exc))
    if isinstance(exc, Unsupported):
        return E.Failed(failure_of(exc))
    # Any other answer from a live server: keep the session and try again later.
    return E.NetworkFailed(failure_of(exc))


def _unexpected(exc: Exception, server: str) -> Failure:
    log.error("unexpected %s from the %s client", type(exc).__name__, server, exc_info=exc)
    message = f"unexpected {type(exc).__name__} talking to the server (see the log)"
    return Failure(FailureKind.OTHER, message)
