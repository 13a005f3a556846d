"""The one HTTP adapter of vms-tray: httpx client construction, timeouts, and error translation.

Every server kind talks HTTP through ``HttpAdapter``. It owns one long-lived ``httpx.Client`` per
server (so keep-alive connections and the TLS session are reused across polls), sets every timeout
explicitly, and is the only place where httpx, ssl and socket exceptions, HTTP error statuses and
RFC 9457 problem documents become ``vms_tray.errors`` exceptions. Messages name the server, say
what to do, and never contain a secret: server-supplied text is scrubbed of the request's secrets
and cut short.
"""

from __future__ import annotations

import functools
import json
import logging
import ssl
import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode

import httpx

from vms_tray import APP_NAME, __version__
from vms_tray.connections.model import Trust
from vms_tray.errors import (
    BadResponse,
    CertificateChanged,
    CertificateUntrusted,
    EndedBy,
    InvalidCredentials,
    InvalidURL,
    LoginThrottled,
    ProtocolError,
    ServerBusy,
    ServerError,
    ServerTimeout,
    ServerUnreachable,
    SessionEnded,
    SessionNotFound,
    TokenExpired,
    VmsTrayError,
)
from vms_tray.net import tls
from vms_tray.net.proxy import proxy_label, proxy_refusal
from vms_tray.text import command, printable

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
# Longer than any poll interval, so one connection (one TLS handshake) serves a whole session.
# A connection the server closed meanwhile is noticed before reuse (httpcore checks readability).
KEEPALIVE_EXPIRY = 600.0
MAX_DETAIL = 200
USER_AGENT = f"{APP_NAME}/{__version__}"

# RFC 9457 problem names (last segment of ``type``) of protocol v1 that map to one exception.
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
_SECRET_MEMBERS = frozenset({"conflict_token", "access_token", "refresh_token", "captcha"})

_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})

# OpenSSL X509_V_ERR_* codes the user can understand.
_VERIFY_REASONS = {
    9: "is not valid yet (check this computer's clock)",
    10: "has expired",
    62: "was issued for another name",
    64: "was issued for another address",
}


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


@dataclass(frozen=True)
class Reply:
    """A response the caller asked for: success, or a problem/status it handles itself."""

    status: int
    data: Any = field(repr=False)  # parsed JSON, None for an empty body
    headers: httpx.Headers = field(repr=False)
    problem: Problem | None = None
    retry_after: float | None = None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP-date."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if seconds == seconds else None  # NaN is no answer
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max((when - now).total_seconds(), 0.0)


def _host_label(url: httpx.URL) -> str:
    host = url.host
    if ":" in host:
        host = f"[{host}]"
    default = 443 if url.scheme == "https" else 80
    return host if url.port in (None, default) else f"{host}:{url.port}"


def _seconds(value: float | None) -> str:
    return "a moment" if value is None else f"{max(value, 0.0):.0f} s"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (httpcore passes the cause as args[0] and drops
    ``__cause__``), without looping."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo.extend(a for a in e.args if isinstance(a, BaseException))
        for linked in (e.__cause__, e.__context__):
            if linked is not None:
                todo.append(linked)


def _find(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    return next((e for e in _causes(exc) if isinstance(e, kind)), None)


class _Scrubber:
    def __init__(self, secrets: Collection[str]) -> None:
        # Short strings would blank out ordinary words; real secrets are longer than 3.
        self._secrets = sorted((s for s in secrets if s and len(s) > 3), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        text = " ".join(text.split())
        return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"


class ErrorTranslator:
    """Pure mapping from transport failures and error responses to ``vms_tray.errors``."""

    def __init__(
        self,
        base_url: str,
        *,
        name: str | None = None,
        trust: Trust | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        fetch_certificate: Callable[[str, float], tls.PeerCertificate] = (
            tls.fetch_peer_certificate
        ),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        proxy: str | None = None,
    ) -> None:
        self.proxy = proxy
        self.base_url = base_url
        self.url = httpx.URL(base_url)
        self.label = _host_label(self.url)
        self.name = name
        self.trust = trust or Trust()
        self.timeout = timeout
        self._fetch_certificate = fetch_certificate
        self._now = now

    # --- transport ----------------------------------------------------------------------------

    def transport_error(self, exc: Exception) -> VmsTrayError:
        pin = _find(exc, tls.PinMismatch)
        if isinstance(pin, tls.PinMismatch):
            return self._changed(pin.pinned, pin.presented)
        verify = _find(exc, ssl.SSLCertVerificationError)
        if isinstance(verify, ssl.SSLCertVerificationError):
            return self._untrusted(verify)
        label = self.label
        if isinstance(exc, httpx.ConnectTimeout):
            return ServerTimeout(
                f"{label} did not accept a connection within {self.timeout:g} s: check the "
                "address and your network; vms-tray will retry"
            )
        if isinstance(exc, httpx.PoolTimeout):
            return ServerTimeout(
                f"no free connection to {label} within {self.timeout:g} s: "
                "too many requests at once; vms-tray will retry"
            )
        if isinstance(exc, httpx.TimeoutException):
            return ServerTimeout(
                f"{label} did not answer within {self.timeout:g} s: the server or the network "
                "is slow or down; vms-tray will retry"
            )
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
            return InvalidURL(
                f"{self.base_url!r} is not a usable https:// address: fix it with "
                "'vms-tray servers edit'"
            )
        if isinstance(exc, httpx.ProxyError):
            return ServerUnreachable(proxy_refusal(self.proxy, label, str(exc)))
        if isinstance(exc, httpx.ConnectError):
            cause = _find(exc, OSError)
            reason = tls.describe_os_error(cause) if cause is not None else "connection failed"
            if self.proxy and not isinstance(cause, ssl.SSLError):
                return ServerUnreachable(
                    f"cannot reach {label} through the proxy {proxy_label(self.proxy)} "
                    f"({reason}): check https_proxy and no_proxy; vms-tray will retry"
                )
            if isinstance(cause, ssl.SSLError):
                return ServerUnreachable(
                    f"cannot open a secure connection to {label} ({reason}): check that the "
                    "address is the server's https port"
                )
            return ServerUnreachable(
                f"cannot reach {label} ({reason}): check the address and that the server is "
                "running; vms-tray will retry"
            )
        if isinstance(exc, httpx.DecodingError):
            return BadResponse(
                f"{label} sent a body that cannot be decoded: the server or a proxy is broken; "
                "vms-tray will retry"
            )
        if isinstance(exc, httpx.RemoteProtocolError):
            return ServerUnreachable(
                f"{label} closed the connection or broke HTTP: vms-tray will retry"
            )
        if isinstance(exc, httpx.TransportError):
            cause = _find(exc, OSError)
            reason = tls.describe_os_error(cause) if cause is not None else type(exc).__name__
            return ServerUnreachable(
                f"the connection to {label} failed ({reason}): vms-tray will retry"
            )
        return ServerUnreachable(f"request to {label} failed ({type(exc).__name__})")

    def _hint(self) -> str:
        # Ends its message, unquoted: the command's own quoting makes it paste as it is.
        return command("servers", "trust", self.name) if self.name else "'vms-tray servers trust'"

    def _changed(self, pinned: str, presented: str | None) -> CertificateChanged:
        return CertificateChanged(
            f"the certificate of {self.label} is not the pinned one (pinned SHA-256 {pinned}, "
            f"presented {presented or 'none'}); nothing was sent: if the administrator replaced "
            f"it, check the new fingerprint with them, then run: {self._hint()}",
            pinned=pinned,
            presented=presented,
        )

    def _untrusted(self, err: ssl.SSLCertVerificationError) -> CertificateUntrusted:
        code = getattr(err, "verify_code", None)
        reason = _VERIFY_REASONS.get(code or -1)
        if reason is None:
            if self.trust.mode == "ca-file":
                reason = f"is not signed by the CA in {self.trust.ca_file}"
            else:
                reason = "is not signed by an authority this computer trusts"
        fingerprint: str | None = None
        try:
            # A second, verification-less handshake that sends nothing: shows what was offered.
            fingerprint = self._fetch_certificate(self.base_url, self.timeout).sha256
        except (VmsTrayError, OSError, ValueError) as exc:
            log.debug("could not read the certificate of %s: %s", self.label, exc)
        shown = f" (SHA-256 {fingerprint})" if fingerprint else ""
        return CertificateUntrusted(
            f"the certificate of {self.label} {reason}{shown}; nothing was sent: check the "
            f"fingerprint with the administrator, then run: {self._hint()}",
            fingerprint=fingerprint,
        )

    # --- responses ----------------------------------------------------------------------------

    def retry_after(self, response: httpx.Response, problem: Problem | None = None) -> float | None:
        value = parse_retry_after(response.headers.get("retry-after"), self._now())
        if value is None and problem is not None:
            ext = problem.extensions.get("retry_after")
            if isinstance(ext, int | float) and not isinstance(ext, bool):
                value = max(float(ext), 0.0)
        return value

    def response_error(
        self, response: httpx.Response, problem: Problem | None, scrub: Callable[[str], str]
    ) -> ServerError:
        """The exception for an error response the caller did not ask to handle."""
        retry = self.retry_after(response, problem)
        if problem is not None and problem.name in PROBLEM_NAMES:
            return self.problem_error(problem, retry, scrub)
        status = response.status_code
        reason = response.reason_phrase or ""
        what = f"{status} {reason}".strip()
        label = self.label
        if problem is None:
            shape = _describe_body(response)
            if status == 503 or (status >= 500 and retry is not None):
                return ServerBusy(
                    f"{label} is unavailable ({what}, {shape}): vms-tray will retry in "
                    f"{_seconds(retry)}",
                    retry_after=retry,
                )
            if status >= 500:
                return ServerBusy(
                    f"{label} failed ({what}, {shape}): a proxy or the server is in trouble; "
                    "vms-tray will retry",
                    retry_after=retry,
                )
            return BadResponse(
                f"{label} answered {what} with {shape}, not the vms-tray protocol: check that "
                "the address points at the VMS server (not a web page or proxy)"
            )
        detail = scrub(problem.detail or problem.title or problem.name)
        if status >= 500:
            return ServerBusy(
                f"{label} failed ({what}: {detail}): vms-tray will retry", retry_after=retry
            )
        return ProtocolError(
            f"{label} answered {what} {problem.name}: {detail}",
            problem_type=problem.type,
            status=status,
            extensions=problem.public_extensions(),
        )

    def problem_error(
        self, problem: Problem, retry_after: float | None, scrub: Callable[[str], str]
    ) -> ServerError:
        label = self.label
        name = problem.name
        detail = scrub(problem.detail or problem.title or name)
        if name == "invalid-credentials":
            return InvalidCredentials(
                f"{label} refused the login or password: check them and sign in again"
            )
        if name == "token-expired":
            return TokenExpired(f"the session on {label} has expired: sign in again")
        if name == "session-ended":
            return self._session_ended(problem)
        if name == "login-throttled":
            return LoginThrottled(
                f"too many sign-in attempts on {label}: wait {_seconds(retry_after)} "
                "before trying again",
                retry_after=retry_after,
            )
        if name == "session-not-found":
            return SessionNotFound(
                f"that session no longer exists on {label}: refresh the list of sessions"
            )
        if name == "server-busy":
            return ServerBusy(
                f"{label} is busy: vms-tray will retry in {_seconds(retry_after)}",
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

    def _session_ended(self, problem: Problem) -> SessionEnded:
        label = self.label
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
            who = (
                f" ({_oneline(ended_by.device)}, {_oneline(ended_by.software)})" if ended_by else ""
            )
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


def _oneline(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _media_type(response: httpx.Response) -> str:
    value: str = response.headers.get("content-type", "")
    return value.split(";", 1)[0].strip().lower()


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def _describe_body(response: httpx.Response) -> str:
    media = _media_type(response)
    if not response.content:
        return "an empty body"
    if media in ("text/html", "application/xhtml+xml"):
        return "an HTML page"
    if _is_json(media):
        return "an unexpected JSON body"
    return f"a {media or 'untyped'} body"


def _json_or_none(response: httpx.Response) -> Any:
    if not response.content or not _is_json(_media_type(response)):
        return None
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return None


def parse_problem(response: httpx.Response) -> Problem | None:
    """The problem document of an error response, or None if it is not one."""
    media = _media_type(response)
    if not _is_json(media):
        return None
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict):
        return None
    ptype = body.get("type")
    if media != "application/problem+json" and not isinstance(ptype, str):
        return None
    ptype = ptype if isinstance(ptype, str) and ptype else "about:blank"
    name = ptype.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    status = body.get("status")
    title, detail = body.get("title"), body.get("detail")
    known = {"type", "status", "title", "detail", "instance"}
    return Problem(
        type=ptype,
        name=name,
        status=status if isinstance(status, int) else response.status_code,
        title=title if isinstance(title, str) else "",
        detail=detail if isinstance(detail, str) else "",
        extensions={k: v for k, v in body.items() if k not in known},
    )


def _build_client(
    trust: Trust,
    *,
    transport: httpx.BaseTransport | None,
    timeout: float,
    base_url: str = "",
    proxy: str | None = None,
) -> tuple[httpx.Client, tls.TrustContext | None]:
    ctx: tls.TrustContext | None = None
    if transport is None:
        ctx = tls.ssl_context_for(trust)
        transport = httpx.HTTPTransport(
            verify=ctx,
            limits=httpx.Limits(
                max_connections=4,
                max_keepalive_connections=2,
                keepalive_expiry=KEEPALIVE_EXPIRY,
            ),
            # The proxy comes from vms_tray.net.proxy; httpx's trust_env would also let
            # .netrc and SSL_CERT_FILE in. Inside the CONNECT tunnel, ctx still checks the pin.
            proxy=httpx.Proxy(proxy) if proxy else None,
            trust_env=False,
        )
    client = httpx.Client(
        base_url=base_url,
        transport=transport,
        timeout=httpx.Timeout(connect=timeout, read=timeout, write=timeout, pool=timeout),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        trust_env=False,
    )
    return client, ctx


class HttpAdapter:
    """One server's HTTP client. Thread-safe (httpx.Client is); close it when done."""

    def __init__(
        self,
        base_url: str,
        *,
        trust: Trust | None = None,
        name: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        fetch_certificate: Callable[[str, float], tls.PeerCertificate] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        proxy: str | None = None,
    ) -> None:
        """``transport`` replaces the network (tests); ``trust`` and ``proxy`` then do not
        apply. ``proxy``: an http(s):// proxy URL (``vms_tray.net.proxy.proxy_for``)."""
        self.base_url = base_url.rstrip("/")
        trust = trust or Trust()
        if transport is not None:
            proxy = None
        self.errors = ErrorTranslator(
            self.base_url,
            name=name,
            trust=trust,
            timeout=timeout,
            fetch_certificate=fetch_certificate
            or functools.partial(tls.fetch_peer_certificate, proxy=proxy),
            now=now,
            proxy=proxy,
        )
        self.label = self.errors.label
        self._client, self._ssl = _build_client(
            trust, transport=transport, timeout=timeout, base_url=self.base_url, proxy=proxy
        )
        self._closed = threading.Event()

    @property
    def tls_handshakes(self) -> int | None:
        """TLS handshakes completed so far (None with an injected transport)."""
        return self._ssl.handshakes if self._ssl is not None else None

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        form: Mapping[str, str] | None = None,
        bearer: str | None = None,
        secrets: Collection[str] = (),
        problems: Collection[str] = (),
        accept: Collection[int] = (),
    ) -> Reply:
        """Send one request and return a ``Reply`` for a 2xx answer, for a problem whose name is
        in ``problems``, or for a status in ``accept`` (its ``data`` is None unless the body is
        JSON); raise a ``ServerError`` otherwise. The body is ``json_body`` or ``form``.

        ``secrets`` (the bearer is added) are scrubbed from any server text put in a message.
        """
        if self._closed.is_set():
            raise ServerUnreachable(f"the connection to {self.label} was closed: reconnect")
        scrub = _Scrubber([*secrets, *([bearer] if bearer else [])])
        headers = {"Accept": "application/json, application/problem+json"}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        content: bytes | None = None
        if json_body is not None:
            content = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            content = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        attempts = 2 if method.upper() in _IDEMPOTENT else 1
        for attempt in range(attempts):
            try:
                response = self._client.request(method, path, content=content, headers=headers)
                break
            except httpx.RemoteProtocolError as exc:
                # A kept-alive connection the server dropped just as we reused it: safe to
                # repeat an idempotent request once on a fresh connection.
                if attempt + 1 < attempts:
                    log.debug("%s %s: connection dropped, retrying once", method, path)
                    continue
                raise self.errors.transport_error(exc) from None
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                raise self.errors.transport_error(exc) from None
        log.debug("%s %s -> %s", method, path, response.status_code)
        return self._reply(response, scrub, problems, accept)

    def _reply(
        self,
        response: httpx.Response,
        scrub: Callable[[str], str],
        problems: Collection[str],
        accept: Collection[int],
    ) -> Reply:
        status = response.status_code
        if status in accept and not 200 <= status < 300:
            # The caller interprets these itself, whatever the body is.
            return Reply(
                status=status,
                data=_json_or_none(response),
                headers=response.headers,
                problem=parse_problem(response),
                retry_after=self.errors.retry_after(response),
            )
        if 200 <= status < 300:
            return Reply(
                status=status,
                data=self._json(response, required=status != 204),
                headers=response.headers,
                retry_after=self.errors.retry_after(response),
            )
        if 300 <= status < 400:
            raise BadResponse(
                f"{self.label} redirected the request ({status}): check the server address "
                "(https, and no path beyond the server's root)"
            )
        problem = parse_problem(response)
        if problem is not None and problem.name in problems:
            return Reply(
                status=status,
                data=response.json(),
                headers=response.headers,
                problem=problem,
                retry_after=self.errors.retry_after(response, problem),
            )
        raise self.errors.response_error(response, problem, scrub)

    def _json(self, response: httpx.Response, *, required: bool) -> Any:
        if not response.content:
            if required:
                raise BadResponse(
                    f"{self.label} answered {response.status_code} with an empty body where data "
                    "was expected: is it a vms-tray protocol v1 server?"
                )
            return None
        if not _is_json(_media_type(response)):
            raise BadResponse(
                f"{self.label} answered {response.status_code} with {_describe_body(response)} "
                "instead of JSON: check that the address points at the VMS server"
            )
        try:
            return response.json()
        except (ValueError, UnicodeDecodeError):
            raise BadResponse(
                f"{self.label} sent malformed JSON: the server or a proxy is broken; "
                "vms-tray will retry"
            ) from None

    def close(self) -> None:
        self._closed.set()
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
