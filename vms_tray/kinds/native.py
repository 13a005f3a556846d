"""The client of vms-tray's own protocol v1 (``/api/v1``, JSON, bearer tokens, RFC 9457 errors).

Expected sign-in outcomes (captcha needed, no free seat) come back as values; everything else is
raised by ``net.http``, which reads protocol v1's problem documents through ``kinds.problems``.
Responses are checked for shape here, so a server that speaks something else fails with
``BadResponse`` instead of a ``KeyError`` deep in the daemon.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from vms_tray.connections.model import Connection
from vms_tray.errors import (
    AuthError,
    BadResponse,
    ServerError,
    SessionNotFound,
    TokenExpired,
    Unsupported,
)
from vms_tray.kinds.base import Capabilities, ClientInfo, ServerKind
from vms_tray.kinds.native_events import EventFollower
from vms_tray.kinds.problems import ProblemFormat, problem_of
from vms_tray.net.http import DEFAULT_TIMEOUT, HttpAdapter, Reply
from vms_tray.session.records import (
    Captcha,
    CaptchaAnswer,
    CaptchaChallenge,
    Handover,
    Limit,
    LimitConflict,
    ServerInfo,
    SessionEntry,
    SessionList,
    SignedIn,
    SignInOutcome,
    Tokens,
)
from vms_tray.text import printable

log = logging.getLogger(__name__)

API_PATH = "/api/v1"
SUPPORTED_API_MAJOR = "1"
_CAPTCHA_REASONS = {
    "captcha-required": "required",
    "captcha-invalid": "invalid",
    "captcha-expired": "expired",
}
_SIGN_IN_OUTCOMES = (*_CAPTCHA_REASONS, "session-limit")


def _features(value: Any) -> frozenset[str]:
    """Protocol v1.1's ``features`` (a v1 server has none; names we do not know are kept and
    ignored)."""
    if not isinstance(value, list):
        return frozenset()
    return frozenset(v for v in value if isinstance(v, str))


def _position(queue: Any) -> int | None:
    position = queue.get("position") if isinstance(queue, Mapping) else None
    return position if isinstance(position, int) and not isinstance(position, bool) else None


class _Shape:
    """Typed reads from a JSON object; a wrong shape is the server's fault (BadResponse).

    Messages name the member, never its value (it may be a token).
    """

    def __init__(self, data: Any, label: str, what: str) -> None:
        if not isinstance(data, Mapping):
            raise self._bad(label, what, "is not a JSON object")
        self.data: Mapping[str, Any] = data
        self.label = label
        self.what = what

    @staticmethod
    def _bad(label: str, what: str, problem: str) -> BadResponse:
        return BadResponse(
            f"{label} sent a malformed {what} ({problem}): is it a vms-tray protocol v1 server? "
            "Update vms-tray or the server"
        )

    def fail(self, key: str, problem: str) -> BadResponse:
        return self._bad(self.label, self.what, f"'{key}' {problem}")

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str):
            raise self.fail(key, "is missing or not a string")
        return value

    def opt_text(self, key: str, default: str = "") -> str:
        value = self.data.get(key)
        return value if isinstance(value, str) else default

    def number(self, key: str) -> float:
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, "is missing or not a number")
        return float(value)

    def opt_number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, "is not a number")
        return float(value)

    def flag(self, key: str) -> bool:
        value = self.data.get(key)
        if not isinstance(value, bool):
            raise self.fail(key, "is missing or not true/false")
        return value

    def opt_time(self, key: str) -> datetime | None:
        """An optional time (protocol v1.1's members are absent from v1 servers)."""
        return None if self.data.get(key) is None else self.time(key)

    def time(self, key: str) -> datetime:
        value = self.text(key)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise self.fail(key, "is not an ISO 8601 time") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def obj(self, key: str, what: str | None = None) -> _Shape:
        return _Shape(self.data.get(key), self.label, what or f"'{key}'")

    def items(self, key: str) -> list[Any]:
        value = self.data.get(key)
        if not isinstance(value, list):
            raise self.fail(key, "is missing or not a list")
        return value


class NativeServer(ServerKind):
    """A vms-tray protocol v1 server."""

    kind: ClassVar[str] = "native"
    capabilities: ClassVar[Capabilities] = Capabilities(
        list_sessions=True,
        end_sessions=True,
        captcha=True,
        session_limit=True,
        server_side_sign_out=True,
        silent_reauth=False,
    )

    def __init__(
        self,
        connection: Connection,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        http: HttpAdapter | None = None,
        proxy: str | None = None,
    ) -> None:
        """``transport`` replaces the network (tests); ``http`` replaces the whole adapter (give
        it ``error_format=ProblemFormat()``, or problems read as plain statuses)."""
        self.connection = connection
        self.http = http or HttpAdapter(
            connection.url.rstrip("/") + API_PATH,
            trust=connection.trust,
            name=connection.name,
            transport=transport,
            timeout=timeout,
            proxy=proxy,
            error_format=ProblemFormat(),
        )
        self.label = self.http.label
        self._features: frozenset[str] | None = None
        self._events = EventFollower(self.http, features=self.features, label=self.label)

    def __repr__(self) -> str:
        return f"NativeServer({self.connection.name!r}, {self.connection.url!r})"

    @property
    def tls_handshakes(self) -> int | None:
        """TLS handshakes so far: stays at 1 while the connection is reused."""
        return self.http.tls_handshakes

    def features(self) -> frozenset[str]:
        """Protocol v1.1's features of the server (asked once, then remembered)."""
        if self._features is None:
            self._features = self.server_info().features
        return self._features

    # --- parsing -------------------------------------------------------------------------------

    def _shape(self, data: Any, what: str) -> _Shape:
        return _Shape(data, self.label, what)

    def _limit(self, s: _Shape) -> Limit:
        mx = s.opt_number("max")
        return Limit(
            scope=s.opt_text("scope", "account"),
            max=None if mx is None else int(mx),
            active=int(s.number("active")),
            next_free_at=s.opt_time("next_free_at"),
            held=int(s.opt_number("held") or 0),
        )

    def _handover(self, s: _Shape) -> Handover | None:
        if s.data.get("handover") is None:
            return None
        h = s.obj("handover", "handover")
        by = h.data.get("requested_by")
        device = by.get("device") if isinstance(by, Mapping) else None
        return Handover(
            deadline=h.time("deadline"),
            requested_by=printable(device) if isinstance(device, str) and device else "",
        )

    def _entry(self, s: _Shape) -> SessionEntry:
        return SessionEntry(
            id=s.text("id"),
            # Shown as they are in menus, dialogs and the CLI: no terminal escapes, no bidi
            # overrides. The id stays exact (it names the session to end).
            device=printable(s.opt_text("device")),
            software=printable(s.opt_text("software")),
            version=printable(s.opt_text("version")),
            address=printable(s.opt_text("address")),
            started_at=s.time("started_at"),
            last_activity=s.time("last_activity"),
            idle=s.flag("idle"),
            current=s.flag("current"),
            ends_by_itself_at=s.opt_time("ends_by_itself_at"),
            handover=self._handover(s),
        )

    def _entries(self, s: _Shape, key: str = "sessions") -> tuple[SessionEntry, ...]:
        return tuple(self._entry(self._shape(e, "session entry")) for e in s.items(key))

    def _captcha(self, s: _Shape) -> Captcha:
        try:
            image = base64.b64decode(s.text("image_png"), validate=True)
        except (binascii.Error, ValueError):
            raise s.fail("image_png", "is not base64") from None
        return Captcha(id=s.text("captcha_id"), image_png=image, expires_in=s.number("expires_in"))

    def _tokens(self, s: _Shape, session_id: str | None = None) -> Tokens:
        token_type = s.opt_text("token_type", "Bearer")
        if token_type.lower() != "bearer":
            raise s.fail("token_type", "is not Bearer")
        refresh = s.data.get("refresh_token")
        if refresh is not None and not isinstance(refresh, str):
            raise s.fail("refresh_token", "is not a string")
        sid = s.data.get("session_id")
        return Tokens(
            access_token=s.text("access_token"),
            expires_in=s.number("expires_in"),
            refresh_token=refresh,
            refresh_expires_in=s.opt_number("refresh_expires_in"),
            session_id=sid if isinstance(sid, str) else session_id,
        )

    @staticmethod
    def _device_token(data: Mapping[str, Any]) -> str | None:
        token = data.get("device_token")
        # Absent (a finished conflict) or malformed: nothing to keep.
        return token if isinstance(token, str) and token else None

    def _outcome(self, reply: Reply) -> SignInOutcome:
        problem = problem_of(reply) if not 200 <= reply.status < 300 else None
        if problem is None:
            s = self._shape(reply.data, "sign-in answer")
            limit = s.data.get("limit")
            tokens = self._tokens(s)
            self._events.follow(tokens.access_token)
            return SignedIn(
                tokens=tokens,
                limit=self._limit(self._shape(limit, "limit")) if limit is not None else None,
                idle_timeout=s.opt_number("idle_timeout"),
                device_token=self._device_token(s.data),
            )
        ext = self._shape(problem.extensions, f"{problem.name} answer")
        if problem.name == "session-limit":
            conflict_token = ext.text("conflict_token")
            # A waiter hears "a seat is held for you" on its own stream (protocol v1.1).
            self._events.follow(conflict_token)
            return LimitConflict(
                limit=self._limit(ext.obj("limit")),
                sessions=self._entries(ext),
                conflict_token=conflict_token,
                expires_in=ext.number("conflict_expires_in"),
                device_token=self._device_token(ext.data),
                queue_position=_position(ext.data.get("queue")),
            )
        return CaptchaChallenge(
            captcha=self._captcha(ext.obj("captcha")), reason=_CAPTCHA_REASONS[problem.name]
        )

    # --- ServerKind ----------------------------------------------------------------------------

    def server_info(self) -> ServerInfo:
        s = self._shape(self.http.request("GET", "/server").data, "server description")
        info = ServerInfo(
            name=s.opt_text("name", self.connection.name),
            product=s.opt_text("product"),
            version=s.opt_text("version"),
            api_version=s.text("api_version"),
            captcha=s.opt_text("captcha", "never"),
            idle_timeout=s.opt_number("idle_timeout"),
            server_time=s.time("server_time") if s.data.get("server_time") else None,
            features=_features(s.data.get("features")),
        )
        self._features = info.features
        if info.api_version.split(".", 1)[0] != SUPPORTED_API_MAJOR:
            log.warning("%s speaks API %s, this client speaks 1.x", self.label, info.api_version)
        return info

    def sign_in(
        self, login: str, password: str, client: ClientInfo, captcha: CaptchaAnswer | None = None
    ) -> SignInOutcome:
        body: dict[str, Any] = {
            "login": login,
            "password": password,
            "client": {
                "device": client.device,
                "software": client.software,
                "version": client.version,
            },
        }
        secrets = [password]
        if client.device_token:
            body["device_token"] = client.device_token
            secrets.append(client.device_token)
        if captcha is not None:
            body["captcha"] = {"id": captcha.id, "answer": captcha.answer}
            secrets.append(captcha.answer)
        reply = self.http.request(
            "POST", "/sessions", json_body=body, secrets=secrets, outcomes=_SIGN_IN_OUTCOMES
        )
        return self._outcome(reply)

    def queues(self) -> bool:
        try:
            return "queue" in self.features()
        except ServerError:
            return False  # unknown: wait as a v1 client does

    def finish_sign_in(self, conflict_token: str, client: ClientInfo) -> SignInOutcome:
        # The server remembers the client details given with the password (protocol v1). With
        # its queue (v1.1) the finish also keeps our place in line while every seat is taken.
        body: dict[str, Any] = {"conflict_token": conflict_token}
        if self.queues():
            body["wait"] = True
        reply = self.http.request(
            "POST",
            "/sessions",
            json_body=body,
            secrets=[conflict_token],
            outcomes=("session-limit",),
        )
        return self._outcome(reply)

    def refresh(self, tokens: Tokens) -> Tokens:
        if not tokens.refresh_token:
            raise TokenExpired(f"the session on {self.label} cannot be renewed: sign in again")
        # Not retried here. The daemon retries a refresh whose answer was lost with the same
        # token after a backoff; the server takes that as a retry only within its grace period.
        reply = self.http.request(
            "POST",
            "/sessions/refresh",
            json_body={"refresh_token": tokens.refresh_token},
            secrets=[tokens.refresh_token, tokens.access_token],
        )
        renewed = self._tokens(self._shape(reply.data, "refresh answer"), tokens.session_id)
        self._events.follow(renewed.access_token)  # the stream goes on with the new token
        return renewed

    def check(self, tokens: Tokens) -> None:
        self.current_session(tokens.access_token)

    def list_sessions(self, bearer: str) -> SessionList:
        s = self._shape(self.http.request("GET", "/sessions", bearer=bearer).data, "session list")
        return SessionList(limit=self._limit(s.obj("limit")), sessions=self._entries(s))

    def current_session(self, bearer: str) -> SessionEntry:
        reply = self.http.request("GET", "/sessions/current", bearer=bearer)
        return self._entry(self._shape(reply.data, "session entry"))

    def end_session(self, bearer: str, session_id: str) -> None:
        # "/sessions/current" is the caller's own session (DELETE there signs out, or abandons a
        # conflict), and "." or ".." would be another path once normalised: never session ids.
        if session_id == "current":
            raise SessionNotFound(
                f"'current' is not another session on {self.label}: "
                "your own session ends with 'vms-tray signout'"
            )
        if session_id in ("", ".", ".."):
            raise SessionNotFound(f"{session_id!r} is not a session id on {self.label}")
        self.http.request("DELETE", f"/sessions/{quote(session_id, safe='')}", bearer=bearer)

    def hands_over(self) -> bool:
        # Asked while a snapshot is made: no request here, only what /server said already (the
        # events follower asks it at every sign-in; ``request_handover`` asks if need be).
        return self._features is not None and "handover" in self._features

    def request_handover(self, bearer: str, session_id: str) -> datetime:
        if "handover" not in self.features():
            raise Unsupported(
                f"{self.label} cannot ask a session to hand over its seat (protocol v1.1): "
                "end it, or wait for a free seat"
            )
        if session_id in ("", ".", "..", "current"):
            raise SessionNotFound(f"{session_id!r} is not another session on {self.label}")
        path = f"/sessions/{quote(session_id, safe='')}/handover"
        reply = self.http.request("POST", path, bearer=bearer, json_body={})
        return self._shape(reply.data, "handover answer").time("deadline")

    def new_captcha(self, replaces: str | None = None) -> Captcha:
        body = {"replaces": replaces} if replaces else {}
        reply = self.http.request("POST", "/captcha", json_body=body)
        return self._captcha(self._shape(reply.data, "captcha"))

    def sign_out(self, tokens: Tokens) -> None:
        """Free the seat. Idempotent: a session that is already over counts as signed out."""
        self._events.stop()
        bearers = [tokens.access_token]
        if tokens.refresh_token:
            # With the access token expired the refresh token still names the session.
            bearers.append(tokens.refresh_token)
        for bearer in bearers:
            try:
                self.http.request("DELETE", "/sessions/current", bearer=bearer)
                return
            except TokenExpired:
                continue
            except AuthError:
                return
        log.info("sign-out on %s: the server no longer knows the session", self.label)

    def on_pushed(self, callback: Callable[[], None]) -> None:
        # Protocol v1.1's events stream (native_events): what it hears makes the daemon check.
        self._events.on_change = callback
        self._events.wanted = True

    def on_live(self, callback: Callable[[bool], None]) -> None:
        self._events.on_live = callback

    def close(self) -> None:
        self._events.stop()
        self.http.close()
