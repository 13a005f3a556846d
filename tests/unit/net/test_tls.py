"""servers.tls: fingerprints, trust contexts, URL parsing (no network)."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme

from vms_tray.connections.model import Trust
from vms_tray.errors import ConfigError, InvalidInput, InvalidURL
from vms_tray.net import tls


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def test_system_context_verifies_chain_and_name() -> None:
    ctx = tls.ssl_context_for(Trust())
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert ctx.pin_sha256 is None


def test_ca_file_context(ca: trustme.CA, tmp_path: Path) -> None:
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    ctx = tls.ssl_context_for(Trust(mode="ca-file", ca_file=str(pem)))
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert len(ctx.get_ca_certs()) == 1


def test_ca_file_missing_or_garbage(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.pem"):
        tls.ssl_context_for(Trust(mode="ca-file", ca_file=str(tmp_path / "missing.pem")))
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(ConfigError, match=r"junk\.pem"):
        tls.ssl_context_for(Trust(mode="ca-file", ca_file=str(junk)))
    with pytest.raises(InvalidInput):
        tls.ssl_context_for(Trust(mode="ca-file"))


def test_pinned_context_carries_the_canonical_pin() -> None:
    ctx = tls.ssl_context_for(Trust(mode="pinned", pin_sha256="ab" * 32))
    assert ctx.pin_sha256 == ":".join(["AB"] * 32)
    assert not ctx.check_hostname
    with pytest.raises(InvalidInput):
        tls.ssl_context_for(Trust(mode="pinned"))


def test_unknown_mode() -> None:
    with pytest.raises(InvalidInput, match="unknown trust mode"):
        tls.ssl_context_for(Trust(mode="off"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://vms.example.com", ("vms.example.com", 443)),
        ("https://vms.example.com:8443/base", ("vms.example.com", 8443)),
        ("https://[::1]:9443", ("::1", 9443)),
    ],
)
def test_host_port(url: str, expected: tuple[str, int]) -> None:
    assert tls.host_port(url) == expected


@pytest.mark.parametrize("url", ["http://vms.example.com", "https://", "https://h:99999"])
def test_host_port_rejects(url: str) -> None:
    with pytest.raises(InvalidURL):
        tls.host_port(url)


def test_peer_certificate_from_der(ca: trustme.CA) -> None:
    cert = ca.issue_cert("vms.example.com", "10.0.0.5")
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())
    peer = tls.peer_certificate_from_der(der)
    assert peer.sha256 == tls.fingerprint_sha256(der)
    assert peer.dns_names == ("vms.example.com",)
    assert peer.pem.startswith("-----BEGIN CERTIFICATE-----")
    assert not peer.self_signed
    assert peer.not_after.year >= 2030
    assert "BEGIN" not in repr(peer)
