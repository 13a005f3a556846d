"""Protocol v1's error documents: RFC 9457 problems, and the exception each one becomes.

The native kind hands :class:`ProblemFormat` to its ``HttpAdapter`` (the adapter knows no
protocol's errors): it names a problem by the last segment of its ``type`` (so a sign-in can ask
for ``captcha-required`` as an outcome), and turns the others into ``vms_tray.errors``. Bearer
material in a problem's members (conflict tokens, captchas) never reaches an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from vms_tray.errors import (
    WILL_RETRY,
    EndedBy,
    InvalidCredentials,
    LoginThrottled,
    ProtocolError,
    ServerBusy,
    ServerError,
    SessionEnded,
    SessionNotFound,
    TokenExpired,
)
from vms_tray.net.http import Refusal, Reply, format_wait, is_json, json_of, media_type
from vms_tray.text import printable

__all__ = ["PROBLEM_NAMES", "Problem", "ProblemFormat", "parse_problem", "problem_of"]

# Problem names (last segment of ``type``) of protocol v1 that map to one exception.
PROBLEM_NAMES = (
    "invalid-request",
    "invalid-credentials",
    "captcha-required",
    "captcha-invalid",
    "captcha-expired",
    "login-throttled",
    "session-limit",
    "token-expired",
    "session-ended",
    "session-not-found",
    "server-busy",
)

# Members that carry bearer material; never copied onto exceptions.
_SECRET_MEMBERS = frozenset(
    {"conflict_token", "access_token", "refresh_token", "captcha", "device_token"}
)
_KNOWN_MEMBERS = frozenset({"type", "status", "title", "detail", "instance"})


@dataclass(frozen=True)
class Problem:
    """An RFC 9457 problem document."""

    type: str
    name: str  # last segment of ``type``: "session-ended"
    status: int
    title: str = ""
    detail: str = ""
    extensions: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def public_extensions(self) -> dict[str, Any]:
        """The extension members without bearer material, safe to keep on an exception."""
        return {k: v for k, v in self.extensions.items() if k not in _SECRET_MEMBERS}


def _document(media: str, body: Any, status: int) -> Problem | None:
    if not isinstance(body, dict):
        return None
    ptype = body.get("type")
    if media != "application/problem+json" and not isinstance(ptype, str):
        return None
    ptype = ptype if isinstance(ptype, str) and ptype else "about:blank"
    name = ptype.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    declared = body.get("status")
    title, detail = body.get("title"), body.get("detail")
    return Problem(
        type=ptype,
        name=name,
        status=declared if isinstance(declared, int) else status,
        title=title if isinstance(title, str) else "",
        detail=detail if isinstance(detail, str) else "",
        extensions={k: v for k, v in body.items() if k not in _KNOWN_MEMBERS},
    )


def parse_problem(response: httpx.Response) -> Problem | None:
    """The problem document of an error response, or None if it is not one."""
    media = media_type(response)
    if not is_json(media):
        return None
    try:
        body = json_of(response)
    except ValueError:
        return None
    return _document(media, body, response.status_code)


def problem_of(reply: Reply) -> Problem | None:
    """The problem document a ``Reply`` carries (an outcome the caller asked for), or None."""
    media = reply.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if not is_json(media):
        return None
    return _document(media, reply.data, reply.status)


def _oneline(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ProblemFormat:
    """Protocol v1's errors for ``HttpAdapter`` (an ``ErrorFormat``)."""

    def name(self, response: httpx.Response) -> str | None:
        problem = parse_problem(response)
        return problem.name if problem is not None else None

    def error(self, response: httpx.Response, refusal: Refusal) -> ServerError | None:
        problem = parse_problem(response)
        if problem is None:
            return None  # not a problem document: the adapter words it by status and shape
        retry = refusal.retry_after
        if retry is None:
            ext = problem.extensions.get("retry_after")
            if isinstance(ext, int | float) and not isinstance(ext, bool):
                retry = max(float(ext), 0.0)
        if problem.name in PROBLEM_NAMES:
            return _problem_error(problem, refusal.label, retry, refusal.scrub)
        status = response.status_code
        what = f"{status} {response.reason_phrase or ''}".strip()
        detail = refusal.scrub(problem.detail or problem.title or problem.name)
        if status >= 500:
            return ServerBusy(
                f"{refusal.label} failed ({what}: {detail}): {WILL_RETRY}",
                retry_after=retry,
            )
        return ProtocolError(
            f"{refusal.label} answered {what} {problem.name}: {detail}",
            problem_type=problem.type,
            status=status,
            extensions=problem.public_extensions(),
        )


def _problem_error(
    problem: Problem, label: str, retry_after: float | None, scrub: Callable[[str], str]
) -> ServerError:
    name = problem.name
    detail = scrub(problem.detail or problem.title or name)
    if name == "invalid-credentials":
        return InvalidCredentials(
            f"{label} refused the login or password: check them and sign in again"
        )
    if name == "token-expired":
        return TokenExpired(f"the session on {label} has expired: sign in again")
    if name == "session-ended":
        return _session_ended(problem, label)
    if name == "login-throttled":
        return LoginThrottled(
            f"too many sign-in attempts on {label}: wait {format_wait(retry_after)} "
            "before trying again",
            retry_after=retry_after,
        )
    if name == "session-not-found":
        return SessionNotFound(
            f"that session no longer exists on {label}: refresh the list of sessions"
        )
    if name == "server-busy":
        return ServerBusy(
            f"{label} is busy: {WILL_RETRY} in {format_wait(retry_after)}",
            retry_after=retry_after,
        )
    if name == "invalid-request":
        return ProtocolError(
            f"{label} rejected a request as invalid ({detail}): vms-tray and the server "
            "disagree on the protocol; update one of them",
            problem_type=problem.type,
            status=problem.status,
            extensions=problem.public_extensions(),
        )
    # captcha-* and session-limit are outcomes the caller handles; here they are unexpected.
    return ProtocolError(
        f"{label} answered {problem.status} {name} where it was not expected: {detail}",
        problem_type=problem.type,
        status=problem.status,
        extensions=problem.public_extensions(),
    )


def _session_ended(problem: Problem, label: str) -> SessionEnded:
    reason = problem.extensions.get("reason")
    reason = reason if isinstance(reason, str) else "unknown"
    ended_by: EndedBy | None = None
    raw = problem.extensions.get("ended_by")
    if isinstance(raw, Mapping):
        device, software = raw.get("device"), raw.get("software")
        if isinstance(device, str) and isinstance(software, str):
            # Shown in notices and the CLI: no terminal escapes or bidi overrides.
            ended_by = EndedBy(device=printable(device), software=printable(software))
    if reason == "ended_by_other":
        who = f" ({_oneline(ended_by.device)}, {_oneline(ended_by.software)})" if ended_by else ""
        text = f"the session on {label} was ended from another device{who}"
    elif reason == "idle_timeout":
        text = f"the session on {label} ended after being idle too long"
    elif reason == "logout":
        text = f"the session on {label} was signed out"
    elif reason == "expired":
        text = f"the session on {label} has expired"
    else:
        text = f"the session on {label} has ended"
    return SessionEnded(f"{text}: sign in again", reason=reason, ended_by=ended_by)
