"""The server's TLS certificate: a self-signed one made once per data directory, and fingerprints.

The fingerprint format is the project's pin format: colon-separated upper-case hex of SHA-256 over
the DER certificate (what ``Trust.pin_sha256`` stores).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from vms_tray.fingerprints import fingerprint_sha256

log = logging.getLogger(__name__)

CERT_NAME = "server.crt"
KEY_NAME = "server.key"
VALID_DAYS = 825
DEFAULT_NAMES = ("127.0.0.1", "::1", "localhost")


def fingerprint_pem(pem: bytes) -> str:
    cert = x509.load_pem_x509_certificate(pem)
    return fingerprint_sha256(cert.public_bytes(serialization.Encoding.DER))


def _san(names: list[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in dict.fromkeys(names):
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def make_self_signed(
    names: list[str], common_name: str = "vms-tray reference server"
) -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM) for ``names`` (IP addresses and DNS names)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(_san(names), critical=False)
        # A CA:TRUE self-signed leaf lets clients trust it directly as their CA (cadata=PEM).
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert_pem, key_pem


def _covers(cert_pem: bytes, host: str) -> bool:
    cert = x509.load_pem_x509_certificate(cert_pem)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    try:
        return ipaddress.ip_address(host) in san.get_values_for_type(x509.IPAddress)
    except ValueError:
        return host.lower() in (n.lower() for n in san.get_values_for_type(x509.DNSName))


def ensure_self_signed(data_dir: Path, host: str) -> tuple[Path, Path]:
    """The data directory's certificate and key, made on first use and reused after that.

    Reused even when ``host`` is not among its names (a new certificate would break every client
    that pinned the old one); a warning says so.
    """
    cert_path, key_path = data_dir / CERT_NAME, data_dir / KEY_NAME
    if cert_path.exists() and key_path.exists():
        wildcard = host in ("0.0.0.0", "::", "")  # noqa: S104 (comparing, not binding)
        if not wildcard and not _covers(cert_path.read_bytes(), host):
            log.warning(
                "certificate %s does not name %s; clients must pin it or connect by another name",
                cert_path,
                host,
            )
        return cert_path, key_path
    data_dir.mkdir(parents=True, exist_ok=True)
    names = [*DEFAULT_NAMES]
    if host and host not in ("0.0.0.0", "::"):  # noqa: S104
        names.append(host)
    cert_pem, key_pem = make_self_signed(names)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key_pem)
    cert_path.write_bytes(cert_pem)
    log.info("created a self-signed certificate %s", cert_path)
    return cert_path, key_path
