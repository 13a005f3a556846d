"""The one HTTP adapter of vms-tray: httpx client construction, timeouts, replies and errors.

Every server kind talks HTTP through ``HttpAdapter``. It owns one long-lived ``httpx.Client`` per
server (so keep-alive connections and the TLS session are reused across polls), sets every timeout
explicitly, and is the only place where httpx answers become ``Reply`` values or
``vms_tray.errors`` exceptions: transport failures through :mod:`vms_tray.net.errors`, error
responses through the kind's :class:`ErrorFormat` (the adapter knows no protocol's error
documents; protocol v1's are :mod:`vms_tray.kinds.problems`) and, where that has nothing to say,
by status and body shape here. Messages name the server, say what to do, and never contain a
secret: server-supplied text is scrubbed of the request's secrets and cut short.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Protocol, Self
from urllib.parse import urlencode

import httpx

from vms_tray import APP_NAME, __version__
from vms_tray.connections.model import Trust
from vms_tray.errors import BadResponse, ServerBusy, ServerError, ServerUnreachable
from vms_tray.net import tls
from vms_tray.net.errors import Scrubber, TransportErrors

__all__ = [
    "DEFAULT_TIMEOUT",
    "ErrorFormat",
    "HttpAdapter",
    "Refusal",
    "Reply",
    "format_wait",
    "is_json",
    "json_of",
    "media_type",
    "parse_retry_after",
]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
# Longer than any poll interval, so one connection (one TLS handshake) serves a whole session.
# A connection the server closed meanwhile is noticed before reuse (httpcore checks readability).
KEEPALIVE_EXPIRY = 600.0
USER_AGENT = f"{APP_NAME}/{__version__}"

_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})


@dataclass(frozen=True)
class Reply:
    """A response the caller asked for: success, an outcome it named, or a status it accepts."""

    status: int
    data: Any = field(repr=False)  # parsed JSON, None for an empty body
    headers: httpx.Headers = field(repr=False)
    retry_after: float | None = None


@dataclass(frozen=True)
class Refusal:
    """What an ``ErrorFormat`` needs to word the exception for an error response."""

    label: str  # the server, as messages name it
    retry_after: float | None  # from the Retry-After header
    scrub: Callable[[str], str]  # makes server text safe to show (secrets blanked, cut short)


class ErrorFormat(Protocol):
    """A server kind's error documents, which the adapter does not know."""

    def name(self, response: httpx.Response) -> str | None:
        """The name of the error this response documents (a caller asks for an outcome by it),
        or None when the body is not such a document."""
        ...

    def error(self, response: httpx.Response, refusal: Refusal) -> ServerError | None:
        """The exception for an error response the caller did not ask for, or None to leave it
        to the adapter's generic one (by status and body shape)."""
        ...


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


def format_wait(value: float | None) -> str:
    """A wait in messages: "12 s", or "a moment" when the server named none."""
    return "a moment" if value is None else f"{max(value, 0.0):.0f} s"


def media_type(response: httpx.Response) -> str:
    """The response's media type, lower case, without parameters ("" when absent)."""
    value: str = response.headers.get("content-type", "")
    return value.split(";", 1)[0].strip().lower()


def is_json(media_type: str) -> bool:
    """Whether a media type is JSON (``application/json`` or any ``+json``)."""
    return media_type == "application/json" or media_type.endswith("+json")


def _describe_body(response: httpx.Response) -> str:
    media = media_type(response)
    if not response.content:
        return "an empty body"
    if media in ("text/html", "application/xhtml+xml"):
        return "an HTML page"
    if is_json(media):
        return "an unexpected JSON body"
    return f"a {media or 'untyped'} body"


def json_of(response: httpx.Response) -> Any:
    """The response's body as JSON; ``ValueError`` when it is not: malformed, not UTF-8, or
    nested deeper than the parser goes (a hostile server's 60 KB of ``[`` makes json raise
    RecursionError). The one place where a server's JSON is decoded, for every kind."""
    try:
        return response.json()
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _json_or_none(response: httpx.Response) -> Any:
    if not response.content or not is_json(media_type(response)):
        return None
    try:
        return json_of(response)
    except ValueError:
        return None


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
        error_format: ErrorFormat | None = None,
    ) -> None:
        """``transport`` replaces the network (tests); ``trust`` and ``proxy`` then do not
        apply. ``proxy``: an http(s):// proxy URL (``vms_tray.net.proxy.proxy_for``).
        ``error_format``: how the kind's error documents read (none: status and shape only)."""
        self.base_url = base_url.rstrip("/")
        trust = trust or Trust()
        if transport is not None:
            proxy = None
        self.label = _host_label(httpx.URL(self.base_url))
        self._transport_error = TransportErrors(
            self.base_url,
            self.label,
            fetch_certificate=fetch_certificate
            or functools.partial(tls.fetch_peer_certificate, proxy=proxy),
            name=name,
            trust=trust,
            timeout=timeout,
            proxy=proxy,
        )
        self._format = error_format
        self._now = now
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
        outcomes: Collection[str] = (),
        accept: Collection[int] = (),
    ) -> Reply:
        """Send one request and return a ``Reply`` for a 2xx answer, for an error whose name
        (``ErrorFormat.name``) is in ``outcomes``, or for a status in ``accept`` (its ``data``
        is None unless the body is JSON); raise a ``ServerError`` otherwise. The body is
        ``json_body`` or ``form``.

        ``secrets`` (the bearer is added) are scrubbed from any server text put in a message.
        """
        if self._closed.is_set():
            raise ServerUnreachable(f"the connection to {self.label} was closed: reconnect")
        scrub = Scrubber([*secrets, *([bearer] if bearer else [])])
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
                raise self._transport_error(exc) from None
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                raise self._transport_error(exc) from None
        log.debug("%s %s -> %s", method, path, response.status_code)
        return self._reply(response, scrub, outcomes, accept)

    @contextmanager
    def stream(
        self,
        path: str,
        *,
        bearer: str,
        headers: Mapping[str, str] | None = None,
        read_timeout: float,
        media: str = "text/event-stream",
    ) -> Iterator[Iterator[str]]:
        """A long-lived GET whose answer is read line by line (protocol v1.1's events). An
        error answer raises as ``request`` would; so does a transport failure while reading.
        ``read_timeout`` bounds the silence between lines (the server's heartbeats)."""
        if self._closed.is_set():
            raise ServerUnreachable(f"the connection to {self.label} was closed: reconnect")
        scrub = Scrubber([bearer])
        sent = {
            "Accept": f"{media}, application/problem+json",
            "Authorization": f"Bearer {bearer}",
            **(headers or {}),
        }
        timeout = self._client.timeout
        limits = httpx.Timeout(
            connect=timeout.connect, read=read_timeout, write=timeout.write, pool=timeout.pool
        )
        try:
            with self._client.stream("GET", path, headers=sent, timeout=limits) as response:
                if not 200 <= response.status_code < 300:
                    response.read()
                    self._reply(response, scrub, (), ())  # raises: the answer is an error
                if media_type(response) != media:
                    raise BadResponse(
                        f"{self.label} answered {path} with {media_type(response) or 'an untyped'}"
                        f" body, not {media}: update the server, or vms-tray keeps polling"
                    )
                yield response.iter_lines()
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self._transport_error(exc) from None

    def _retry_after(self, response: httpx.Response) -> float | None:
        return parse_retry_after(response.headers.get("retry-after"), self._now())

    def _reply(
        self,
        response: httpx.Response,
        scrub: Callable[[str], str],
        outcomes: Collection[str],
        accept: Collection[int],
    ) -> Reply:
        status = response.status_code
        if status in accept and not 200 <= status < 300:
            # The caller interprets these itself, whatever the body is.
            return Reply(
                status=status,
                data=_json_or_none(response),
                headers=response.headers,
                retry_after=self._retry_after(response),
            )
        if 200 <= status < 300:
            return Reply(
                status=status,
                data=self._json(response, required=status != 204),
                headers=response.headers,
                retry_after=self._retry_after(response),
            )
        if 300 <= status < 400:
            raise BadResponse(
                f"{self.label} redirected the request ({status}): check the server address "
                "(https, and no path beyond the server's root)"
            )
        if self._format is not None and outcomes and self._format.name(response) in outcomes:
            return Reply(
                status=status,
                data=json_of(response),
                headers=response.headers,
                retry_after=self._retry_after(response),
            )
        retry = self._retry_after(response)
        if self._format is not None:
            error = self._format.error(response, Refusal(self.label, retry, scrub))
            if error is not None:
                raise error
        raise self._status_error(response, retry)

    def _status_error(self, response: httpx.Response, retry: float | None) -> ServerError:
        """The exception for an error response no format explained: by status and body shape."""
        status = response.status_code
        what = f"{status} {response.reason_phrase or ''}".strip()
        shape = _describe_body(response)
        if status == 503 or (status >= 500 and retry is not None):
            return ServerBusy(
                f"{self.label} is unavailable ({what}, {shape}): vms-tray will retry in "
                f"{format_wait(retry)}",
                retry_after=retry,
            )
        if status >= 500:
            return ServerBusy(
                f"{self.label} failed ({what}, {shape}): a proxy or the server is in trouble; "
                "vms-tray will retry",
                retry_after=retry,
            )
        return BadResponse(
            f"{self.label} answered {what} with {shape}, not the vms-tray protocol: check that "
            "the address points at the VMS server (not a web page or proxy)"
        )

    def _json(self, response: httpx.Response, *, required: bool) -> Any:
        if not response.content:
            if required:
                raise BadResponse(
                    f"{self.label} answered {response.status_code} with an empty body where data "
                    "was expected: is it a vms-tray protocol v1 server?"
                )
            return None
        if not is_json(media_type(response)):
            raise BadResponse(
                f"{self.label} answered {response.status_code} with {_describe_body(response)} "
                "instead of JSON: check that the address points at the VMS server"
            )
        try:
            return json_of(response)
        except ValueError:
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
