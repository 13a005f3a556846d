"""Certificate trust: system CAs, a CA file, or one pinned certificate.

A pinned connection trusts exactly one certificate, named by the SHA-256 of its DER bytes. The
pin stores only that fingerprint, so the chain cannot be verified by OpenSSL; instead every TLS
socket made from the context checks the peer's certificate the moment the handshake completes,
inside ``SSLContext.wrap_socket``, and closes the socket on a mismatch. httpx writes the request
only after ``wrap_socket`` returns, so a changed certificate never sees a byte of HTTP.

There is deliberately no "don't verify" mode: the only unverified handshake is
``fetch_peer_certificate``, which reads the certificate to show the user and sends nothing.
"""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from vms_tray.connections.model import Trust, normalize_fingerprint
from vms_tray.errors import (
    ConfigError,
    InvalidInput,
    InvalidURL,
    ServerTimeout,
    ServerUnreachable,
)
from vms_tray.fingerprints import fingerprint_sha256
from vms_tray.net.errors import PinMismatch, describe_os_error
from vms_tray.net.proxy import open_tunnel

__all__ = [
    "PeerCertificate",
    "TrustContext",
    "fetch_peer_certificate",
    "fingerprint_sha256",
    "host_port",
    "ssl_context_for",
]


class TrustContext(ssl.SSLContext):
    """An SSLContext that checks the pin (if any) and counts completed handshakes.

    The count lets tests and the daemon benchmark prove that connections are reused.
    """

    pin_sha256: str | None

    def __init__(self, protocol: int = ssl.PROTOCOL_TLS_CLIENT) -> None:
        # SSLContext takes ``protocol`` in __new__; object.__init__ must get nothing.
        super().__init__()
        self.pin_sha256 = None
        self._lock = threading.Lock()
        self._handshakes = 0

    @property
    def handshakes(self) -> int:
        with self._lock:
            return self._handshakes

    def _handshake_done(self, der: bytes | None) -> None:
        with self._lock:
            self._handshakes += 1
        if self.pin_sha256 is None:
            return
        presented = fingerprint_sha256(der) if der else None
        if presented != self.pin_sha256:
            raise PinMismatch(self.pin_sha256, presented)


class _CheckedSSLSocket(ssl.SSLSocket):
    """wrap_socket() result: verifies the pin as the last step of the handshake."""

    _vms_verified = False

    def do_handshake(self, block: bool = False) -> None:
        super().do_handshake(block)
        ctx = self.context
        if isinstance(ctx, TrustContext):
            # On PinMismatch (an OSError) ssl's own socket setup closes this socket.
            ctx._handshake_done(self.getpeercert(binary_form=True))
        self._vms_verified = True

    def _verified(self) -> None:
        # Without do_handshake_on_connect OpenSSL would handshake implicitly inside the first
        # write and skip the pin check; make the handshake explicit instead.
        if not self._vms_verified:
            self.do_handshake()

    def send(self, data: object, flags: int = 0) -> int:
        self._verified()
        return super().send(data, flags)  # type: ignore[arg-type]

    def sendall(self, data: object, flags: int = 0) -> None:
        self._verified()
        super().sendall(data, flags)  # type: ignore[arg-type]

    def write(self, data: object) -> int:
        self._verified()
        return super().write(data)  # type: ignore[arg-type]


class _CheckedSSLObject(ssl.SSLObject):
    """wrap_bio() result (TLS inside an HTTPS proxy tunnel): same check as the socket."""

    _vms_verified = False

    def do_handshake(self) -> None:
        super().do_handshake()
        ctx = self.context
        if isinstance(ctx, TrustContext):
            ctx._handshake_done(self.getpeercert(binary_form=True))
        self._vms_verified = True

    def write(self, data: object) -> int:
        if not self._vms_verified:
            self.do_handshake()
        return super().write(data)  # type: ignore[arg-type]


TrustContext.sslsocket_class = _CheckedSSLSocket
TrustContext.sslobject_class = _CheckedSSLObject


def _base_context() -> TrustContext:
    ctx = TrustContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def ssl_context_for(trust: Trust) -> TrustContext:
    """The SSL context for a connection's trust setting (a new one each call).

    - ``system``: the platform's CA store, host name checked (like ``ssl.create_default_context``).
    - ``ca-file``: only the CAs in that PEM file, host name checked.
    - ``pinned``: exactly the certificate with that SHA-256, whatever its issuer, names or dates
      (appliances with self-signed certificates for the wrong name); see the module docstring.
    """
    ctx = _base_context()
    if trust.mode == "system":
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
    elif trust.mode == "ca-file":
        if not trust.ca_file:
            raise InvalidInput("trust mode 'ca-file' needs a CA file (--ca-file PATH)")
        try:
            ctx.load_verify_locations(cafile=trust.ca_file)
        except (OSError, ssl.SSLError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ConfigError(
                trust.ca_file, f"cannot load it as a PEM CA certificate file ({reason})"
            ) from None
    elif trust.mode == "pinned":
        if not trust.pin_sha256:
            raise InvalidInput("trust mode 'pinned' needs a SHA-256 fingerprint")
        ctx.check_hostname = False
        # Chain verification is replaced by the exact-certificate check in _handshake_done.
        ctx.verify_mode = ssl.CERT_NONE
        ctx.pin_sha256 = normalize_fingerprint(trust.pin_sha256)
    else:
        raise InvalidInput(f"unknown trust mode {trust.mode!r} (system, ca-file or pinned)")
    return ctx


def host_port(url: str) -> tuple[str, int]:
    """Host and port of an https URL (port 443 when absent)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise InvalidURL(f"{url!r} is not an https:// URL with a host name")
    try:
        port = parts.port or 443
    except ValueError:
        raise InvalidURL(f"{url!r} has an invalid port") from None
    return parts.hostname, port


@dataclass(frozen=True)
class PeerCertificate:
    der: bytes = field(repr=False)
    pem: str = field(repr=False)
    sha256: str
    subject: str
    not_after: datetime
    issuer: str = ""
    not_before: datetime | None = None
    dns_names: tuple[str, ...] = ()

    @property
    def self_signed(self) -> bool:
        return self.subject == self.issuer


def peer_certificate_from_der(der: bytes) -> PeerCertificate:
    # Imported here: cryptography's x509 costs ~8 MiB, and the daemon needs it only when a
    # certificate is shown to the user (on Linux keyring's SecretStorage loads it regardless).
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = tuple(san.value.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        names = ()
    return PeerCertificate(
        der=der,
        pem=ssl.DER_cert_to_PEM_cert(der),
        sha256=fingerprint_sha256(der),
        subject=cert.subject.rfc4514_string(),
        not_after=cert.not_valid_after_utc,
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        dns_names=names,
    )


def fetch_peer_certificate(
    url: str, timeout: float = 10.0, proxy: str | None = None
) -> PeerCertificate:
    """Connect, complete a TLS handshake *without* verification, read the certificate, close.

    Sends no HTTP: used to show the user what they are asked to trust, never to talk to the server.
    ``proxy``: an http:// proxy to tunnel through (see ``vms_tray.net.proxy``).
    """
    host, port = host_port(url)
    label = f"{host}:{port}"
    # The only unverified context in vms-tray, and it never carries application data.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        if proxy is not None:
            raw = open_tunnel(proxy, host, port, timeout)  # its failures are ours already
        else:
            raw = socket.create_connection((host, port), timeout=timeout)
        with raw, ctx.wrap_socket(raw, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True)
    except TimeoutError:
        raise ServerTimeout(
            f"{label} did not complete a TLS handshake within {timeout:g} s: "
            "check the address and port, then try again"
        ) from None
    except OSError as exc:
        raise ServerUnreachable(
            f"cannot read the certificate of {label} ({describe_os_error(exc)}): "
            "check the address and port"
        ) from None
    if not der:
        raise ServerUnreachable(f"{label} presented no certificate: is it an HTTPS server?")
    return peer_certificate_from_der(der)
