"""Server errors turned into engine events, in one place.

Network faults (connect errors, timeouts, 5xx, 503, throttling) keep the session and retry; only
the protocol's 401 problem types end it; trust failures stop until the user acts.
"""

from __future__ import annotations

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
from vms_tray.kinds.base import SessionList
from vms_tray.session import engine as E


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


def sign_in_event(exc: ServerError) -> E.Event:
    """What a failed sign-in means to the engine."""
    if isinstance(exc, NetworkError):
        return E.NetworkFailed(str(exc), exc.retry_after)
    if isinstance(exc, InvalidCredentials):
        return E.SignInRejected(str(exc), credentials=True)
    if isinstance(exc, AuthError | LoginThrottled | TrustError):
        return E.SignInRejected(str(exc))
    return E.Failed(str(exc))


def keepalive_event(exc: ServerError, listing: SessionList | None) -> E.Event:
    """What a failed refresh or poll means: only 401s end the session; the rest is retried."""
    if isinstance(exc, SessionEnded):
        return E.SessionLost(exc.reason or "ended", ended_by_text(exc, listing))
    if isinstance(exc, TokenExpired):
        return E.RefreshExpired()
    if isinstance(exc, AuthError):
        return E.SessionLost(str(exc))
    if isinstance(exc, NetworkError | LoginThrottled):
        return E.NetworkFailed(str(exc), exc.retry_after)
    if isinstance(exc, TrustError | Unsupported):
        return E.Failed(str(exc))
    # Any other answer from a live server: keep the session and try again later.
    return E.NetworkFailed(str(exc))
