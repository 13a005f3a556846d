"""The AIPIX VMS Client API as a server kind (``kind = "aipix"``).

Everything here follows ``../shared/notes/aipix-client-api.md`` ("note §N"). In short: sign-in
is ``GET /static/basic`` (is the captcha on?), ``GET /captcha`` and ``POST /token``; a 419 lists
the account's sessions and the user's choice is sent as ``POST /token`` with ``session_id``
(the server replaces that session); ``GET /sessions`` is both the session list and the
keep-alive (there is no refresh endpoint and no documented token lifetime); ``POST
/sessions/{id}`` ends a session, ``POST /logout`` signs out.

How that meets the kind interface:

* ``Tokens``: AIPIX has one bearer token, so it is also the "refresh" material, and a refresh is
  a ``GET /sessions`` that proves the token still works. ``expires_in`` is how often to do that.
* A 401 means "log out" (note §1): it is ``SessionEnded`` (another device ended it, most
  likely), or ``reason="logout"`` for a token this client signed out itself. AIPIX cannot tell a
  token it never issued from one it ended, so both read the same.
* A limit conflict's ``conflict_token`` is a handle of this client: AIPIX has no such token,
  and the retry needs the login and password again, which the kind holds in memory (never on
  disk, never in a repr) until the conflict is resolved or ``CONFLICT_TTL`` passes.
* Headers on every call (note §1): ``Accept`` and ``Content-Type: application/json``, ``hl``
  (the UI language), ``X-UUID`` (this profile's device id), ``X-Client`` (per connection,
  default ``thick-legal``: see docs/aipix.md), ``X-Version`` (the API generation implemented)
  and a ``User-Agent`` naming vms-tray, its version, the OS and the device.

Longer than 500 lines because the sign-in (captcha, the 419 and its session_id retry) shares the
pending conflict with the session calls; parsing (aipix_sessions), errors, the profile and the
push already live beside it.
"""

from __future__ import annotations

import contextlib
import logging
import platform
import secrets
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

import httpx

from vms_tray.connections.rules import CLIENT_TYPE as _CLIENT_TYPE
from vms_tray.errors import (
    BadResponse,
    InvalidCredentials,
    InvalidInput,
    ProtocolError,
    SessionEnded,
    SessionNotFound,
    TokenExpired,
)
from vms_tray.i18n import current_language
from vms_tray.kinds import default_client_info
from vms_tray.kinds.aipix_errors import AipixErrors, ended, throttled
from vms_tray.kinds.aipix_profile import device_id, learnt_limit, remember_limit
from vms_tray.kinds.aipix_push import PushWatch
from vms_tray.kinds.aipix_sessions import (
    bare_token,
    error_fields,
    http_time,
    parse_captcha,
    parse_limit_body,
    parse_sessions,
    user_agent,
    validation_text,
)
from vms_tray.kinds.base import Capabilities, ClientInfo, ServerKind
from vms_tray.net.http import DEFAULT_TIMEOUT, HttpAdapter, Reply
from vms_tray.session.records import (
    Captcha,
    CaptchaAnswer,
    CaptchaChallenge,
    Limit,
    LimitConflict,
    ServerInfo,
    SessionEntry,
    SessionList,
    SignedIn,
    SignInOutcome,
    Tokens,
)

if TYPE_CHECKING:
    from vms_tray.connections.model import Connection

__all__ = ["API_VERSION", "DEFAULT_X_CLIENT", "PRODUCT", "AipixServer"]

log = logging.getLogger(__name__)

PRODUCT = "AIPIX"
API_PATH = "/api/v1"
# note §1 X-Client: the documented value of the desktop ("thick") client; docs/aipix.md says why.
DEFAULT_X_CLIENT = "thick-legal"
# note §1 X-Version: the API generation this kind implements (the newest SDK the note read).
API_VERSION = "24.03.0.0"
# How often the token is proven alive by a "refresh" (GET /sessions); the daemon's poll does
# the same more often, so this only bounds how long a silently dead token goes unnoticed.
KEEPALIVE = 900.0
# How long a limit conflict (and the password it holds) is kept for the user's choice.
CONFLICT_TTL = 300.0
_SIGN_IN_STATUSES = (401, 419, 422, 429)


@dataclass
class _Pending:
    """A sign-in waiting for the user's choice of a session to replace (note §4 step 3)."""

    login: str
    password: str = field(repr=False)
    client: ClientInfo
    conflict: LimitConflict
    expires_at: float
    result: SignInOutcome | None = None


def _system() -> str:
    return f"{platform.system() or 'unknown OS'} {platform.release()}".strip()


class _Http(HttpAdapter):
    """The adapter with AIPIX's standing headers (note §1): set on the client, so every
    request carries them, GETs included (the SDKs send Content-Type on every call)."""

    def set_headers(self, headers: Mapping[str, str]) -> None:
        self._client.headers.update(headers)


class AipixServer(ServerKind):
    kind: ClassVar[str] = "aipix"
    capabilities: ClassVar[Capabilities] = Capabilities(
        list_sessions=True,
        end_sessions=True,
        captcha=True,
        session_limit=True,  # learnt from a 419 only (note §3 E3 ``sessions_limit``)
        server_side_sign_out=True,
        # A 401 means "log out" (note §1): the user decides whether to sign in again.
        silent_reauth=False,
    )

    def __init__(
        self,
        connection: Connection,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        proxy: str | None = None,
        x_client: str | None = None,
        profile_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
        language: Callable[[], str] = current_language,
    ) -> None:
        """``x_client``: the X-Client value (default: the connection's ``client_type``, else
        ``DEFAULT_X_CLIENT``); ``profile_dir``: where the device id and learnt limits live
        (default: the profile's data folder); ``clock`` and ``language`` are for tests."""
        x_client = x_client or connection.client_type or DEFAULT_X_CLIENT
        if not _CLIENT_TYPE.fullmatch(x_client):
            raise InvalidInput(
                f"the client_type of {connection.name!r} in servers.toml is not a client type "
                "(1 to 64 letters, digits, '.', '_' or '-', such as thick-legal or web): fix it"
            )
        self.connection = connection
        self._profile = profile_dir
        self._clock = clock
        self._language = language
        self._x_client = x_client
        self.http = _Http(
            connection.url.rstrip("/") + API_PATH,
            trust=connection.trust,
            name=connection.name,
            transport=transport,
            timeout=timeout,
            proxy=proxy,
            error_format=AipixErrors(),
        )
        self.label = self.http.label
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}
        self._captchas: dict[str, float] = {}  # key -> when it expires (its reason on refusal)
        self._signed_out: set[str] = set()  # hashes of tokens this client signed out
        self._captcha_on: bool | None = None
        self._push = PushWatch(self._authed, trust=connection.trust, proxy=proxy, label=self.label)
        self._uuid: str | None = None
        self._client_info: ClientInfo | None = None

    def __repr__(self) -> str:
        return f"AipixServer({self.connection.name!r}, {self.connection.url!r})"

    @property
    def tls_handshakes(self) -> int | None:
        return self.http.tls_handshakes

    # --- requests ------------------------------------------------------------------------------

    def _headers(self, client: ClientInfo | None) -> None:
        if self._uuid is None:
            self._uuid = device_id(self._profile)
        if client is not None:
            self._client_info = client
        info = self._client_info or default_client_info()
        self.http.set_headers(
            {
                "Content-Type": "application/json",
                "hl": self._language(),
                "X-UUID": self._uuid,
                "X-Client": self._x_client,
                "X-Version": API_VERSION,
                "User-Agent": user_agent(info.software, info.version, _system(), info.device),
            }
        )

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        bearer: str | None = None,
        secrets_: Collection[str] = (),
        accept: Collection[int] = (),
        client: ClientInfo | None = None,
    ) -> Reply:
        self._headers(client)
        return self.http.request(
            method, path, json_body=body, bearer=bearer, secrets=secrets_, accept=accept
        )

    def _authed(self, method: str, path: str, bearer: str, **kw: Any) -> Reply:
        reply = self._call(method, path, bearer=bearer, accept=(401, *kw.pop("accept", ())), **kw)
        if reply.status == 401:
            raise ended(self.label, by_us=self._digest(bearer) in self._signed_out)
        return reply

    @staticmethod
    def _digest(token: str) -> str:
        return sha256(token.encode("utf-8")).hexdigest()

    # --- parsing -------------------------------------------------------------------------------

    def _limit_key(self) -> str:
        return f"{self.connection.url} {self.connection.login}"

    def _listing(self, sessions: tuple[SessionEntry, ...]) -> SessionList:
        learnt = learnt_limit(self._limit_key(), self._profile)
        mx, seen = (learnt.max, learnt.seen_at) if learnt else (None, None)
        return SessionList(Limit("account", mx, len(sessions), as_of=seen), sessions)

    def _captcha(self, data: Any) -> Captcha:
        captcha = parse_captcha(data, self.label)
        with self._lock:
            now = self._clock()
            self._captchas = {k: v for k, v in self._captchas.items() if v > now - 600}
            self._captchas[captcha.id] = now + captcha.expires_in
        return captcha

    # --- ServerKind: public --------------------------------------------------------------------

    def server_info(self) -> ServerInfo:
        # note §3 E1
        reply = self._call("GET", "/static/basic")
        data = reply.data if isinstance(reply.data, Mapping) else None
        if data is None or not isinstance(data.get("is_captcha_available"), bool):
            raise BadResponse(
                f"{self.label} did not describe itself as an AIPIX server does (GET "
                "/api/v1/static/basic): check the address and the server kind"
            )
        self._captcha_on = data["is_captcha_available"]
        version = data.get("version")
        return ServerInfo(
            name=self.connection.name,
            product=PRODUCT,
            version=version if isinstance(version, str) else "",
            api_version="1",
            captcha="always" if self._captcha_on else "never",
            server_time=http_time(reply.headers.get("date")),
        )

    def new_captcha(self, replaces: str | None = None) -> Captcha:
        # note §3 E2; ``replaces`` has no meaning here: keys are checked without state.
        reply = self._call("GET", "/captcha", accept=(429,))
        if reply.status == 429:
            raise throttled(self.label, reply.retry_after)
        return self._captcha(reply.data)

    # --- sign-in (note §3 E3, §4) --------------------------------------------------------------

    def sign_in(
        self, login: str, password: str, client: ClientInfo, captcha: CaptchaAnswer | None = None
    ) -> SignInOutcome:
        self._client_info = client  # the User-Agent names this device from the first call
        if captcha is None:
            if self._captcha_on is None:
                self.server_info()
            if self._captcha_on:
                # note §4 step 1: the captcha comes with the form, before any POST /token.
                return CaptchaChallenge(self.new_captcha(), "required")
        body: dict[str, Any] = {"login": login, "password": password}
        hidden = [password]
        if captcha is not None:
            body |= {"captcha": captcha.answer, "key": captcha.id}
            hidden.append(captcha.answer)
        return self._token(body, hidden, client, captcha)

    def _token(
        self,
        body: Mapping[str, Any],
        hidden: list[str],
        client: ClientInfo,
        captcha: CaptchaAnswer | None,
    ) -> SignInOutcome:
        reply = self._call(
            "POST", "/token", body=body, secrets_=hidden, accept=_SIGN_IN_STATUSES, client=client
        )
        status, data = reply.status, reply.data
        if 200 <= status < 300:
            if not isinstance(data, Mapping):
                raise BadResponse(f"{self.label} signed in without a JSON answer")
            token = bare_token(data.get("access_token"), self.label)
            self._push.remember(token, data.get("user"))
            return self._signed_in(token)
        if status in (419, 429):
            return self._limit_answer(reply, body, client)
        if status == 422 and "captcha" in error_fields(data):
            # note §1: errors.captcha means "fetch a new captcha and retry".
            return CaptchaChallenge(self.new_captcha(), self._captcha_reason(captcha))
        said = validation_text(data)
        if status == 401 or error_fields(data) & {"login", "password"} or not error_fields(data):
            raise InvalidCredentials(
                f"{self.label} refused the login or password"
                + (f" ({said})" if said else "")
                + ": check them and sign in again"
            )
        raise ProtocolError(f"{self.label} refused the sign-in: {said}", status=status)

    def _limit_answer(
        self, reply: Reply, body: Mapping[str, Any], client: ClientInfo
    ) -> LimitConflict:
        # note §7.2: the limit is 419 in all code, 429 in one doc sentence: a 429 that carries
        # sessions is the limit too; one without them is throttling.
        conflict = parse_limit_body(reply.data, self.label)
        if conflict is not None:
            return self._conflict(body, client, conflict.sessions, conflict.limit)
        if reply.status == 429:
            raise throttled(self.label, reply.retry_after)
        raise BadResponse(f"{self.label} answered 419 without the list of sessions")

    def _captcha_reason(self, captcha: CaptchaAnswer | None) -> str:
        if captcha is None:
            return "required"
        with self._lock:
            expires = self._captchas.pop(captcha.id, None)
        return "expired" if expires is not None and self._clock() > expires else "invalid"

    def _signed_in(self, token: str) -> SignedIn:
        # GET /sessions at once: the 200 has no session id and no count (note §3 E3), the list
        # has both (ours is ``is_current``) and proves the token works.
        listing = self.list_sessions(token)
        mine = next((s.id for s in listing.sessions if s.current), None)
        with self._lock:
            self._signed_out.discard(self._digest(token))
        log.info("signed in to AIPIX %s", self.connection.name)
        return SignedIn(
            Tokens(token, KEEPALIVE, refresh_token=token, session_id=mine), limit=listing.limit
        )

    def _conflict(
        self,
        body: Mapping[str, Any],
        client: ClientInfo,
        sessions: tuple[SessionEntry, ...],
        limit: int | None,
    ) -> LimitConflict:
        now = self._clock()
        if limit is None:
            # A bare array names no limit, but a 419 means the account is full: as many
            # sessions as it lists (an inference, remembered like a stated limit).
            limit = len(sessions) or None
        if limit is not None:
            when = datetime.fromtimestamp(now, UTC)
            remember_limit(self._limit_key(), limit, when, self._profile)
        handle = secrets.token_urlsafe(24)
        conflict = LimitConflict(
            Limit("account", limit, len(sessions)), sessions, handle, CONFLICT_TTL
        )
        pending = _Pending(body["login"], body["password"], client, conflict, now + CONFLICT_TTL)
        with self._lock:
            self._pending = {k: p for k, p in self._pending.items() if p.expires_at > now}
            self._pending[handle] = pending
        return conflict

    def _pending_for(self, handle: str) -> _Pending | None:
        with self._lock:
            pending = self._pending.get(handle)
        if pending is None or pending.expires_at <= self._clock():
            return None
        return pending

    def finish_sign_in(self, conflict_token: str, client: ClientInfo) -> SignInOutcome:
        """After ``end_session`` with the conflict's handle: its result. Without one (the
        user waits for a free seat): ``POST /token`` again, which answers 419 while full."""
        pending = self._pending_for(conflict_token)
        if pending is None:
            raise TokenExpired(f"the sign-in to {self.label} waited too long: sign in again")
        with self._lock:
            self._pending.pop(conflict_token, None)
        if pending.result is not None:
            return pending.result
        body = {"login": pending.login, "password": pending.password}
        return self._token(body, [pending.password], pending.client, None)

    # --- keep-alive (note §3 E4: GET /sessions is the keep-alive) ------------------------------

    def refresh(self, tokens: Tokens) -> Tokens:
        if not tokens.refresh_token:
            raise TokenExpired(f"the session on {self.label} cannot be renewed: sign in again")
        self.list_sessions(tokens.refresh_token)
        return Tokens(
            tokens.refresh_token,
            KEEPALIVE,
            refresh_token=tokens.refresh_token,
            session_id=tokens.session_id,
        )

    def check(self, tokens: Tokens) -> None:
        self.list_sessions(tokens.access_token)

    # --- sessions (note §3 E4, E5) -------------------------------------------------------------

    def list_sessions(self, bearer: str) -> SessionList:
        pending = self._pending_for(bearer)
        if pending is not None:
            # A conflict has no token to ask with: the 419's list is what there is.
            return SessionList(pending.conflict.limit, pending.conflict.sessions)
        reply = self._authed("GET", "/sessions", bearer)
        listing = self._listing(parse_sessions(reply.data, self.label))
        if self._push.callback is not None:
            self._push.follow(bearer)
        return listing

    def current_session(self, bearer: str) -> SessionEntry:
        for entry in self.list_sessions(bearer).sessions:
            if entry.current:
                return entry
        raise SessionNotFound(f"{self.label} did not mark any session as this one")

    def end_session(self, bearer: str, session_id: str) -> None:
        if session_id in ("", ".", ".."):
            raise SessionNotFound(f"{session_id!r} is not a session id on {self.label}")
        pending = self._pending_for(bearer)
        if pending is not None:
            self._replace(pending, session_id)
            return
        # note §3 E5: POST with the id in the path and no body, as both SDKs do (§7.3).
        self._authed("POST", f"/sessions/{quote(session_id, safe='')}", bearer)
        log.info("ended a session on AIPIX %s", self.connection.name)

    def _replace(self, pending: _Pending, session_id: str) -> None:
        """The user's choice in a conflict: ``POST /token`` with ``session_id`` and no captcha
        (note §3 E3 call shape 3); the outcome waits for ``finish_sign_in``."""
        body = {"login": pending.login, "password": pending.password, "session_id": session_id}
        reply = self._call(
            "POST",
            "/token",
            body=body,
            secrets_=[pending.password],
            accept=(419, 422, 429),
            client=pending.client,
        )
        if reply.status in (419, 429):
            # Another device took the freed seat first (note §3 E3 419): the user chooses
            # again, from the list as it is now.
            body.pop("session_id")
            pending.result = self._limit_answer(reply, body, pending.client)
            return
        if reply.status == 422 and "session_id" in error_fields(reply.data):
            raise SessionNotFound(f"that session no longer exists on {self.label}")
        if reply.status == 422:
            # The retry asked for a captcha after all (the "window" reading): finishing the
            # sign-in will ask the user for one.
            pending.result = CaptchaChallenge(self.new_captcha(), "required")
            return
        data = reply.data if isinstance(reply.data, Mapping) else {}
        token = bare_token(data.get("access_token"), self.label)
        self._push.remember(token, data.get("user"))
        pending.result = self._signed_in(token)

    # --- sign-out (note §3 E6) -----------------------------------------------------------------

    def sign_out(self, tokens: Tokens) -> None:
        """Idempotent: a token the server already refuses is signed out."""
        if self._uuid is None:
            self._uuid = device_id(self._profile)
        with contextlib.suppress(SessionEnded):
            self._authed("POST", "/logout", tokens.access_token, body={"uuid": self._uuid})
        with self._lock:
            self._signed_out.add(self._digest(tokens.access_token))
        self._push.stop()
        log.info("signed out of AIPIX %s", self.connection.name)

    def close(self) -> None:
        self._push.stop()
        self.http.close()

    # --- the logout push (note §3 E12; aipix_push) ---------------------------------------------

    def on_pushed(self, callback: Callable[[], None]) -> None:
        self._push.callback = callback  # told at once when the server pushes our logout
