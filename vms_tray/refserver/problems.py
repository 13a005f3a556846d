"""RFC 9457 problem details: the only shape an error of protocol v1 takes.

Every ``type`` is ``PROBLEM_BASE`` + one of the names in ``TITLES``; clients match on the last path
segment. Extension members are documented per type in ``vms_tray/data/openapi.json``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

PROBLEM_BASE = "https://vms-tray.example/problems/"
MEDIA_TYPE = "application/problem+json"

STATUS = {
    "invalid-request": 400,
    "unsupported-media-type": 415,
    "invalid-credentials": 401,
    "captcha-required": 403,
    "captcha-invalid": 403,
    "captcha-expired": 403,
    "login-throttled": 429,
    "session-limit": 409,
    "token-expired": 401,
    "session-ended": 401,
    "session-not-found": 404,
    "server-busy": 503,
}

TITLES = {
    "invalid-request": "The request is malformed",
    "unsupported-media-type": "The body is not application/json",
    "invalid-credentials": "Login or password is wrong",
    "captcha-required": "A captcha answer is required",
    "captcha-invalid": "The captcha answer is wrong",
    "captcha-expired": "The captcha has expired",
    "login-throttled": "Too many failed sign-ins",
    "session-limit": "The account has no free session seat",
    "token-expired": "The token is expired or unknown",
    "session-ended": "The session has ended",
    "session-not-found": "No such session",
    "server-busy": "The server is busy",
}

BEARER_CHALLENGE = 'Bearer realm="vms-tray", error="invalid_token"'


class Problem(Exception):
    """An error answer. Raised by the service, rendered once by the app."""

    def __init__(
        self,
        name: str,
        detail: str,
        *,
        extensions: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{name}: {detail}")
        self.name = name
        self.status = STATUS[name]
        self.detail = detail
        self.extensions = dict(extensions or {})
        self.headers = dict(headers or {})
        if self.status == 401:
            self.headers.setdefault("WWW-Authenticate", BEARER_CHALLENGE)

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE + self.name

    def body(self) -> dict[str, Any]:
        return {
            **self.extensions,
            "type": self.type_uri,
            "title": TITLES[self.name],
            "status": self.status,
            "detail": self.detail,
        }


def retry_after_seconds(seconds: float) -> int:
    """Retry-After is a whole number of seconds; never tell a client to retry at once."""
    return max(1, math.ceil(seconds))


def with_retry_after(name: str, detail: str, seconds: float) -> Problem:
    value = retry_after_seconds(seconds)
    return Problem(
        name, detail, extensions={"retry_after": value}, headers={"Retry-After": str(value)}
    )


def http_problem(status: int, title: str, detail: str) -> dict[str, Any]:
    """A plain-HTTP error (unknown path, wrong method) has no extra semantics: ``about:blank``."""
    return {"type": "about:blank", "title": title, "status": status, "detail": detail}
