"""ZoneMinder (1.34+ token API) as a server kind.

ZoneMinder signs in with a login and password and hands out two JWTs: an access token (2 h by
default) and a refresh token (24 h). Posting the refresh token to the login endpoint returns a new
access token only; a new refresh token needs the password again, which is why this kind declares
``silent_reauth``. There is no session list, no concurrency limit and no captcha, and sign-out
cannot revoke anything: issued tokens stay valid until they expire.

Tokens never go into a URL. ZoneMinder accepts ``token`` as a form field as well as a query
parameter, so every call is a form POST with the token in the body: URLs (which httpx logs at
INFO/DEBUG, and Apache writes to its access log) carry no secret.

The connection URL is ZoneMinder's web root (``https://host/zm``); the API lives under ``/api``.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import html
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

import httpx

from vms_tray.errors import (
    AccessDenied,
    BadResponse,
    InvalidCredentials,
    ProtocolError,
    TokenExpired,
    Unsupported,
)
from vms_tray.kinds.base import Capabilities, ClientInfo, ServerKind
from vms_tray.net import http
from vms_tray.net.errors import Scrubber
from vms_tray.session.records import CaptchaAnswer, ServerInfo, SignedIn, SignInOutcome, Tokens

if TYPE_CHECKING:
    from vms_tray.connections.model import Connection

__all__ = ["PRODUCT", "ZoneMinderServer"]

log = logging.getLogger(__name__)

PRODUCT = "ZoneMinder"

# ZoneMinder's 401 reasons (includes/auth.php, AppController.php) that we tell apart.
_API_DISABLED = "api disabled for"
_USER_NOT_ENABLED = "user is not enabled"


class ZoneMinderServer(ServerKind):
    kind: ClassVar[str] = "zoneminder"
    capabilities: ClassVar[Capabilities] = Capabilities(
        list_sessions=False,
        end_sessions=False,
        captcha=False,
        session_limit=False,
        server_side_sign_out=False,
        silent_reauth=True,
    )

    def __init__(
        self,
        connection: Connection,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = http.DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
        proxy: str | None = None,
    ) -> None:
        self._connection = connection
        self._clock = clock
        self._http = http.HttpAdapter(
            connection.url.rstrip("/") + "/api",
            trust=connection.trust,
            name=connection.name,
            transport=transport,
            timeout=timeout,
            proxy=proxy,
        )
        # ZoneMinder tells its version only to a signed-in client; kept for server_info().
        self._version = ""
        self._api_version = ""

    @property
    def adapter(self) -> http.HttpAdapter:
        """The HTTP adapter (tests and benchmarks read its TLS handshake count)."""
        return self._http

    # --- ServerKind ----------------------------------------------------------------------------

    def server_info(self) -> ServerInfo:
        """Product and version. With authentication on (the normal case) ZoneMinder tells its
        version only to a signed-in client, so before the first sign-in the version is empty."""
        reply = self._post("host/getVersion.json", {})
        if reply.status == httpx.codes.OK:
            self._remember_version(self._body(reply, "version check"))
        elif reply.status == httpx.codes.UNAUTHORIZED:
            # A ZoneMinder-shaped refusal still proves this is ZoneMinder's API.
            self._zm_reason(reply, "version check")
        else:
            self._refused(reply, "version check")
        return ServerInfo(
            name=self._connection.name,
            product=PRODUCT,
            version=self._version,
            api_version=self._api_version,
            captcha="never",
            server_time=_http_datetime(reply.headers.get("date")),
        )

    def sign_in(
        self, login: str, password: str, client: ClientInfo, captcha: CaptchaAnswer | None = None
    ) -> SignInOutcome:
        # ZoneMinder has no captcha and no notion of client devices: ``client`` and ``captcha``
        # have nowhere to go.
        reply = self._post("host/login.json", {"user": login, "pass": password})
        if reply.status == httpx.codes.UNAUTHORIZED:
            raise self._login_refused(reply, login, password)
        if reply.status != httpx.codes.OK:
            self._refused(reply, "sign-in")
        body = self._body(reply, "sign-in")
        self._remember_version(body)
        access, access_ttl = self._access_token(body)
        refresh = body.get("refresh_token")
        refresh_ttl = _number(body.get("refresh_token_expires"))
        if not isinstance(refresh, str) or not refresh or refresh_ttl is None:
            raise BadResponse(
                f"{self._where()} signed in but sent no refresh token: vms-tray needs "
                "ZoneMinder 1.34 or newer, update ZoneMinder"
            )
        log.info("signed in to ZoneMinder %s as %s", self._connection.name, login)
        return SignedIn(
            tokens=Tokens(
                access_token=access,
                expires_in=access_ttl,
                refresh_token=refresh,
                refresh_expires_in=refresh_ttl,
            )
        )

    def refresh(self, tokens: Tokens) -> Tokens:
        """A new access token from the refresh token; the refresh token itself is kept and its
        remaining lifetime recomputed. TokenExpired when it is spent or revoked: sign in again."""
        if not tokens.refresh_token:
            raise TokenExpired(
                f"no ZoneMinder refresh token for {self._connection.name}: sign in again"
            )
        reply = self._post("host/login.json", {"token": tokens.refresh_token})
        if reply.status == httpx.codes.UNAUTHORIZED:
            raise self._token_refused(reply, "refresh token", tokens.refresh_token)
        if reply.status != httpx.codes.OK:
            self._refused(reply, "token refresh")
        body = self._body(reply, "token refresh")
        self._remember_version(body)
        access, access_ttl = self._access_token(body)
        return Tokens(
            access_token=access,
            expires_in=access_ttl,
            refresh_token=tokens.refresh_token,
            refresh_expires_in=self._remaining(tokens.refresh_token, reply),
            session_id=tokens.session_id,
        )

    def check(self, tokens: Tokens) -> None:
        reply = self._post("host/getVersion.json", {"token": tokens.access_token})
        if reply.status == httpx.codes.UNAUTHORIZED:
            raise self._token_refused(reply, "access token", tokens.access_token)
        if reply.status != httpx.codes.OK:
            self._refused(reply, "session check")
        self._remember_version(self._body(reply, "session check"))

    def sign_out(self, tokens: Tokens) -> None:
        """Ends ZoneMinder's PHP session for us, which is all it offers: the tokens themselves
        stay valid until they expire (ZoneMinder cannot revoke a single token). Idempotent: a
        token the server already refuses means there is nothing left to end."""
        reply = self._post("host/logout.json", {"token": tokens.access_token})
        if reply.status not in (httpx.codes.OK, httpx.codes.UNAUTHORIZED):
            self._refused(reply, "sign-out")
        log.info("signed out of ZoneMinder %s", self._connection.name)

    def close(self) -> None:
        self._http.close()

    # --- helpers -------------------------------------------------------------------------------

    def _where(self) -> str:
        return f"ZoneMinder at {self._connection.url}"

    def _post(self, path: str, form: Mapping[str, str]) -> http.Reply:
        # The token travels in the form body, never in the URL (see the module docstring).
        # 401/403 carry ZoneMinder's reason as JSON and 404 means "no API here": all three are
        # interpreted by the callers; the adapter turns everything else into our errors.
        reply = self._http.request(
            "POST",
            path,
            form=form,
            secrets=tuple(form.values()),
            accept=(httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN, httpx.codes.NOT_FOUND),
        )
        if reply.status == httpx.codes.NOT_FOUND:
            raise BadResponse(
                f"{self._where()} has no API at {self._http.base_url} (HTTP 404): check that the "
                "URL is ZoneMinder's web root (e.g. https://host/zm) and that its API is set up"
            )
        return reply

    def _body(self, reply: http.Reply, what: str) -> dict[str, Any]:
        if not isinstance(reply.data, dict):
            raise BadResponse(
                f"{self._where()} answered the {what} (HTTP {reply.status}) with something that "
                "is not ZoneMinder's JSON API: check that the URL is ZoneMinder's web root "
                "(e.g. https://host/zm)"
            )
        return reply.data

    def _zm_reason(self, reply: http.Reply, what: str, secrets: tuple[str, ...] = ()) -> str:
        """ZoneMinder's reason in a CakePHP error body; BadResponse if it has none.

        ZoneMinder's reasons are fixed phrases and user names; ``secrets`` (what we sent) are
        blanked all the same, should a version ever echo them."""
        body = self._body(reply, what)
        data = body.get("data")
        reason: object = None
        if isinstance(data, dict):
            exception = data.get("exception")
            if isinstance(exception, dict):
                reason = exception.get("message")
            if not isinstance(reason, str):
                reason = data.get("message") or data.get("name")
        if not isinstance(reason, str) or body.get("success") is not False:
            raise BadResponse(
                f"{self._where()} refused the {what} (HTTP {reply.status}) without "
                "ZoneMinder's error format: check that the URL is ZoneMinder's web root "
                "(e.g. https://host/zm)"
            )
        reason = html.unescape(reason)
        for secret in secrets:
            if secret:
                reason = reason.replace(secret, "***")
        # One line, bounded, no terminal escapes (the Scrubber): it may end up in a notification.
        return Scrubber(secrets)(reason)[:120]

    def _login_refused(self, reply: http.Reply, login: str, password: str) -> Exception:
        reason = self._zm_reason(reply, "sign-in", (password,)).lower()
        if reason.startswith(_API_DISABLED):
            return AccessDenied(
                f"ZoneMinder user {login!r} may not use the API: enable API access for this "
                "user in ZoneMinder Options → Users"
            )
        if reason.startswith(_USER_NOT_ENABLED):
            return AccessDenied(
                f"ZoneMinder user {login!r} is disabled: enable it in ZoneMinder Options → Users"
            )
        # "Login denied for user", "Could not retrieve user ... details": a wrong login and a
        # wrong password are deliberately indistinguishable.
        return InvalidCredentials(
            f"{self._where()} refused the login {login!r} or its password: check them and "
            "sign in again"
        )

    def _token_refused(self, reply: http.Reply, which: str, token: str) -> Exception:
        reason = self._zm_reason(reply, which, (token,))
        if reason.lower().startswith(_API_DISABLED):
            return AccessDenied(
                f"ZoneMinder no longer allows API access to {self._connection.login!r}: enable "
                "API access for this user in ZoneMinder Options → Users"
            )
        # Expired, revoked (Users.TokenMinExpiry), user removed, secret changed: the token is
        # worthless, and signing in with the password is the way back.
        return TokenExpired(
            f"{self._where()} no longer accepts the {which} ({reason}): sign in again"
        )

    def _access_token(self, body: Mapping[str, Any]) -> tuple[str, float]:
        access = body.get("access_token")
        ttl = _number(body.get("access_token_expires"))
        if access is None and "access_token" in body:
            raise Unsupported(
                f"{self._where()} has authentication turned off (Options → System → "
                "OPT_USE_AUTH), so there is no session to keep: turn it on to use vms-tray"
            )
        if not isinstance(access, str) or not access or ttl is None:
            raise BadResponse(
                f"{self._where()} sent a sign-in answer without an access token: check that "
                "the URL is ZoneMinder's web root (e.g. https://host/zm)"
            )
        return access, ttl

    def _remember_version(self, body: Mapping[str, Any]) -> None:
        version, api_version = body.get("version"), body.get("apiversion")
        if isinstance(version, str):
            self._version = version
        if isinstance(api_version, str):
            self._api_version = api_version

    def _remaining(self, token: str, reply: http.Reply) -> float | None:
        """Seconds the refresh token has left, by the server's own clock when it sent one (so
        a skewed local clock does not matter)."""
        expires_at = _jwt_expiry(token)
        if expires_at is None:
            return None
        now = _http_date(reply.headers.get("date"))
        if now is None:
            now = self._clock()
        return max(0.0, expires_at - now)

    def _refused(self, reply: http.Reply, what: str) -> NoReturn:
        """Any other unexpected answer (403: e.g. no ZM_AUTH_HASH_SECRET)."""
        try:
            reason = f": {self._zm_reason(reply, what)}"
        except BadResponse:
            reason = ""
        raise ProtocolError(
            f"{self._where()} refused the {what} (HTTP {reply.status}{reason}): see "
            "ZoneMinder's log and its Options → System settings",
            status=reply.status,
        )


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT, read without verifying it (only the server can, and does)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return None
    return _number(claims.get("exp")) if isinstance(claims, dict) else None


def _http_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _http_date(value: str | None) -> float | None:
    when = _http_datetime(value)
    return when.timestamp() if when is not None else None
