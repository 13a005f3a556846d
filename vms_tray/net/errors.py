"""How network failures read: foreign exceptions (httpx, ssl, socket) become ``vms_tray.errors``.

The translation is a table, in the spirit of httpx's own exception mapping: the first row whose
exception type matches wins, and each row writes one message that names the server, says what
to do, and never contains a secret. Certificate failures come first, whatever wraps them
(httpcore passes the cause as ``args[0]`` and drops ``__cause__``, so the whole chain is
searched).

This module is the bottom of ``vms_tray.net``: ``tls`` and ``proxy`` use its pieces
(``PinMismatch``, ``describe_os_error``, ``proxy_refusal``), and it imports neither of them.
"""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Callable, Collection, Iterator
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from vms_tray.connections.model import Trust
from vms_tray.errors import (
    WILL_RETRY,
    BadResponse,
    CertificateChanged,
    CertificateUntrusted,
    InvalidURL,
    ServerTimeout,
    ServerUnreachable,
    VmsTrayError,
)
from vms_tray.text import command_line, printable

__all__ = [
    "MAX_DETAIL",
    "PinMismatch",
    "Scrubber",
    "TransportErrors",
    "describe_os_error",
    "proxy_label",
    "proxy_refusal",
]

log = logging.getLogger(__name__)

MAX_DETAIL = 200

# OpenSSL X509_V_ERR_* codes the user can understand.
_VERIFY_REASONS = {
    9: "is not valid yet (check this computer's clock)",
    10: "has expired",
    62: "was issued for another name",
    64: "was issued for another address",
}


class PinMismatch(ssl.SSLCertVerificationError):
    """The peer's certificate is not the pinned one; the socket is closed before any request.

    Raised by ``vms_tray.net.tls``. An ``ssl.SSLError`` so that the ssl module closes the socket
    and httpcore reports it as a connect error like any other failed verification;
    ``TransportErrors`` turns it into ``CertificateChanged``.
    """

    def __init__(self, pinned: str, presented: str | None) -> None:
        super().__init__(1, "certificate does not match the pinned SHA-256 fingerprint")
        self.pinned = pinned
        self.presented = presented
        self.verify_code = 0
        self.verify_message = "pinned certificate mismatch"


def describe_os_error(exc: BaseException) -> str:
    """A short human reason for a socket-level failure (no addresses beyond what the user typed)."""
    if isinstance(exc, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused: nothing listens on that port"
    if isinstance(exc, ConnectionResetError):
        return "the connection was reset"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {exc.reason or exc.strerror or exc}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    return str(exc) or type(exc).__name__


def proxy_label(proxy: str) -> str:
    """``host:port`` of a proxy URL: what logs and messages may show (never its credentials)."""
    parts = urlsplit(proxy)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or "?"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def proxy_refusal(proxy: str | None, target: str, status: str) -> str:
    """The one-line message for a proxy that answered CONNECT with ``status`` (e.g. "403 ...")."""
    via = f"the proxy {proxy_label(proxy)}" if proxy else "the proxy"
    if status[:3] in ("401", "407"):
        hint = "check the user name and password in https_proxy (http://USER:PASSWORD@HOST:PORT)"
    else:
        hint = "check the proxy settings, or list the server's host in no_proxy"
    return f"{via} refused a tunnel to {target} ({status}): {hint}"


class Scrubber:
    """Makes server-supplied text fit for a message: the request's secrets blanked, one line,
    no control or bidi-formatting characters (``text.printable``: ESC, BEL, U+202E ... shown as
    escapes), at most ``MAX_DETAIL`` characters.

    The one place where a server's words (a problem's ``detail``, AIPIX's ``message``,
    ZoneMinder's reason) become part of our error message, which notices, dialogs, the log and
    the CLI show: nothing a server writes can drive a terminal or reorder what a reader sees.
    """

    def __init__(self, secrets: Collection[str]) -> None:
        # Short strings would blank out ordinary words; real secrets are longer than 3.
        self._secrets = sorted((s for s in secrets if s and len(s) > 3), key=len, reverse=True)

    def _blank(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def __call__(self, text: str) -> str:
        text = printable(" ".join(self._blank(text).split()))
        # Again: squeezing and escaping could have spelt a secret out of what was around it.
        text = self._blank(text)
        return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"


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


class Presented(Protocol):
    """What ``TransportErrors`` reads of a certificate (``tls.PeerCertificate`` is one)."""

    @property
    def sha256(self) -> str: ...


class TransportErrors:
    """Pure mapping from one server's transport failures to ``vms_tray.errors``.

    ``fetch_certificate(url, timeout)`` reads the certificate a server offered, for the message
    of an untrusted one (``tls.fetch_peer_certificate``; tests pass a fake).
    """

    def __init__(
        self,
        base_url: str,
        label: str,
        *,
        fetch_certificate: Callable[[str, float], Presented],
        name: str | None = None,
        trust: Trust | None = None,
        timeout: float,
        proxy: str | None = None,
    ) -> None:
        self.base_url = base_url
        self.label = label
        self.name = name
        self.trust = trust or Trust()
        self.timeout = timeout
        self.proxy = proxy
        self._fetch_certificate = fetch_certificate

    def __call__(self, exc: Exception) -> VmsTrayError:
        pin = _find(exc, PinMismatch)
        if isinstance(pin, PinMismatch):
            return self._changed(pin.pinned, pin.presented)
        verify = _find(exc, ssl.SSLCertVerificationError)
        if isinstance(verify, ssl.SSLCertVerificationError):
            return self._untrusted(verify)
        for kind, translate in _TABLE:
            if isinstance(exc, kind):
                return translate(self, exc)
        return ServerUnreachable(f"request to {self.label} failed ({type(exc).__name__})")

    # --- the rows -------------------------------------------------------------------------------

    def _connect_timeout(self, exc: Exception) -> VmsTrayError:
        return ServerTimeout(
            f"{self.label} did not accept a connection within {self.timeout:g} s: check the "
            f"address and your network; {WILL_RETRY}"
        )

    def _pool_timeout(self, exc: Exception) -> VmsTrayError:
        return ServerTimeout(
            f"no free connection to {self.label} within {self.timeout:g} s: "
            f"too many requests at once; {WILL_RETRY}"
        )

    def _timeout(self, exc: Exception) -> VmsTrayError:
        return ServerTimeout(
            f"{self.label} did not answer within {self.timeout:g} s: the server or the network "
            f"is slow or down; {WILL_RETRY}"
        )

    def _invalid_url(self, exc: Exception) -> VmsTrayError:
        return InvalidURL(
            f"{self.base_url!r} is not a usable https:// address: fix it with "
            "'vms-tray servers edit'"
        )

    def _proxy(self, exc: Exception) -> VmsTrayError:
        return ServerUnreachable(proxy_refusal(self.proxy, self.label, str(exc)))

    def _connect(self, exc: Exception) -> VmsTrayError:
        label = self.label
        cause = _find(exc, OSError)
        reason = describe_os_error(cause) if cause is not None else "connection failed"
        if self.proxy and not isinstance(cause, ssl.SSLError):
            return ServerUnreachable(
                f"cannot reach {label} through the proxy {proxy_label(self.proxy)} "
                f"({reason}): check https_proxy and no_proxy; {WILL_RETRY}"
            )
        if isinstance(cause, ssl.SSLError):
            return ServerUnreachable(
                f"cannot open a secure connection to {label} ({reason}): check that the "
                "address is the server's https port"
            )
        return ServerUnreachable(
            f"cannot reach {label} ({reason}): check the address and that the server is "
            f"running; {WILL_RETRY}"
        )

    def _decoding(self, exc: Exception) -> VmsTrayError:
        return BadResponse(
            f"{self.label} sent a body that cannot be decoded: the server or a proxy is broken; "
            f"{WILL_RETRY}"
        )

    def _remote_protocol(self, exc: Exception) -> VmsTrayError:
        return ServerUnreachable(f"{self.label} closed the connection or broke HTTP: {WILL_RETRY}")

    def _transport(self, exc: Exception) -> VmsTrayError:
        cause = _find(exc, OSError)
        reason = describe_os_error(cause) if cause is not None else type(exc).__name__
        return ServerUnreachable(f"the connection to {self.label} failed ({reason}): {WILL_RETRY}")

    # --- certificates -------------------------------------------------------------------------

    def _hint(self) -> str:
        # Ends its message, unquoted: the command's own quoting makes it paste as it is.
        return (
            command_line("servers", "trust", self.name) if self.name else "'vms-tray servers trust'"
        )

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


# Foreign exception -> our error, most specific first (httpx's timeouts and ProxyError are
# subclasses of the later rows).
_TABLE: tuple[tuple[type[Exception], Callable[[TransportErrors, Exception], VmsTrayError]], ...] = (
    (httpx.ConnectTimeout, TransportErrors._connect_timeout),
    (httpx.PoolTimeout, TransportErrors._pool_timeout),
    (httpx.TimeoutException, TransportErrors._timeout),
    (httpx.UnsupportedProtocol, TransportErrors._invalid_url),
    (httpx.InvalidURL, TransportErrors._invalid_url),
    (httpx.ProxyError, TransportErrors._proxy),
    (httpx.ConnectError, TransportErrors._connect),
    (httpx.DecodingError, TransportErrors._decoding),
    (httpx.RemoteProtocolError, TransportErrors._remote_protocol),
    (httpx.TransportError, TransportErrors._transport),
)
