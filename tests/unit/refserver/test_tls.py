from __future__ import annotations

import ipaddress
import re
import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from vms_tray.fingerprints import fingerprint_sha256
from vms_tray.refserver.tls import ensure_self_signed, fingerprint_pem


def test_self_signed_once_with_sans_and_private_key(tmp_path: Path) -> None:
    cert_path, key_path = ensure_self_signed(tmp_path, "192.168.7.7")
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
        ipaddress.ip_address("192.168.7.7"),
    }
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    before = cert_path.read_bytes()
    assert ensure_self_signed(tmp_path, "127.0.0.1") == (cert_path, key_path)
    assert cert_path.read_bytes() == before  # reused: pinned clients keep working


def test_dns_host_in_san(tmp_path: Path) -> None:
    cert_path, _ = ensure_self_signed(tmp_path, "vms.lan")
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "vms.lan" in san.get_values_for_type(x509.DNSName)


def test_fingerprint_format(tmp_path: Path) -> None:
    cert_path, _ = ensure_self_signed(tmp_path, "127.0.0.1")
    fp = fingerprint_pem(cert_path.read_bytes())
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", fp)
    der = x509.load_pem_x509_certificate(cert_path.read_bytes()).public_bytes(
        serialization.Encoding.DER
    )
    assert fingerprint_sha256(der) == fp
