"""AIPIX's error answers (note §1 "Status codes used across the Client API") as our exceptions.

The ``aipix`` kind hands ``AipixErrors`` to its ``HttpAdapter``. AIPIX has no error documents
beyond Laravel's ``{"message", "errors"}``, so the status decides: each becomes one exception
with a message that says what to do. Statuses a call interprets itself (a sign-in's 401, 419,
422 and 429; ending a session's 404) are accepted by that call and never reach this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from vms_tray.errors import (
    WILL_RETRY,
    AccessDenied,
    LoginThrottled,
    ProtocolError,
    ServerBusy,
    ServerError,
    SessionEnded,
    SessionNotFound,
    Unsupported,
)
from vms_tray.net.http import Refusal, format_wait, is_json, json_of, media_type

__all__ = ["THROTTLE_WINDOW", "AipixErrors", "ended", "server_text", "throttled"]

# note §3 E2 429: "at most 20 requests from one IP within 10 minutes"; without a Retry-After
# (the 429 body and headers are not documented, §7.5) the whole window is the honest wait.
THROTTLE_WINDOW = 600.0


def server_text(response: httpx.Response, scrub: Any) -> str:
    """The ``message`` of a JSON error body, made safe and short ("" when there is none)."""
    if not is_json(media_type(response)):
        return ""
    try:
        body = json_of(response)
    except ValueError:
        return ""
    text = body.get("message") if isinstance(body, Mapping) else None
    return str(scrub(" ".join(text.split()))) if isinstance(text, str) else ""


def throttled(label: str, retry_after: float | None) -> LoginThrottled:
    wait = retry_after if retry_after is not None else THROTTLE_WINDOW
    minutes = max(1, round(wait / 60))
    return LoginThrottled(
        f"{label} refuses more sign-in attempts from this address for now (at most 20 in 10 "
        f"minutes): try again in {minutes} min",
        retry_after=wait,
    )


def ended(label: str, *, by_us: bool = False) -> SessionEnded:
    """note §1 401: "Clients must treat this as log out". AIPIX does not say why; the likeliest
    reason is another device (or an administrator) ending the session (note §3 E5)."""
    if by_us:
        return SessionEnded(f"the session on {label} was signed out: sign in again", "logout")
    return SessionEnded(
        f"{label} no longer accepts this session (it was ended from another device or by an "
        "administrator, or it expired): sign in again",
        reason="ended_by_other",
    )


class AipixErrors:
    """The AIPIX Client API's errors for ``HttpAdapter`` (an ``ErrorFormat``)."""

    def name(self, response: httpx.Response) -> str | None:
        return None  # no named documents: calls accept the statuses they interpret

    def error(self, response: httpx.Response, refusal: Refusal) -> ServerError | None:
        status, label = response.status_code, refusal.label
        said = server_text(response, refusal.scrub)
        said = f" ({said})" if said else ""
        if status == 401:
            return ended(label)
        if status == 402:
            # note §1 402: "licence limit (e.g. cameras) or a licence problem" (25.06).
            return ProtocolError(
                f"{label} refused because of its licence (HTTP 402{said}): this is not a password "
                "problem; ask the AIPIX administrator to check the licence",
                status=402,
            )
        if status == 403:
            # note §1 403: no permission, or the address is not allowed ("Manage access to API").
            return AccessDenied(
                f"{label} does not allow this account or this address to use the API (HTTP 403"
                f"{said}): ask the AIPIX administrator (user permissions, 'Manage access to API')"
            )
        if status == 404:
            return SessionNotFound(f"{label} has no such session (HTTP 404): refresh the list")
        if status == 409:
            # note §1 X-Version / 409 "force update".
            return Unsupported(
                f"{label} needs a newer client (HTTP 409, force update{said}): update vms-tray, "
                "or ask the administrator which client versions this server accepts"
            )
        if status == 429:
            return throttled(label, refusal.retry_after)
        if status == 503:
            # note §1 503: maintenance / technical works.
            return ServerBusy(
                f"{label} is under maintenance (HTTP 503{said}): {WILL_RETRY} in "
                f"{format_wait(refusal.retry_after)}; your password is fine",
                retry_after=refusal.retry_after,
            )
        return None  # 5xx and the rest: the adapter's generic words
