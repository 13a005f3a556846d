"""Certificate trust over real TLS on loopback: what reaches the server, and what the user sees."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.support.refserver import RefServer
from vms_tray.connections.model import Connection, Trust
from vms_tray.errors import CertificateChanged, CertificateUntrusted
from vms_tray.kinds.base import ClientInfo
from vms_tray.kinds.native import NativeServer
from vms_tray.net import tls

from .tlsrecorder import SERVER_JSON, TLSRecorder, der_of, recorder

pytestmark = pytest.mark.integration

CLIENT = ClientInfo("desk-1", "vms-tray", "0.1.0")
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def cert(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert("127.0.0.1", "localhost")


@pytest.fixture
def server(cert: trustme.LeafCert) -> Iterator[TLSRecorder]:
    with recorder(cert, SERVER_JSON) as r:
        yield r


def client(url: str, trust: Trust) -> NativeServer:
    return NativeServer(Connection("office", url, "operator", trust=trust), timeout=5)


def test_a_changed_pinned_certificate_sends_nothing(
    server: TLSRecorder, cert: trustme.LeafCert
) -> None:
    actual = tls.fingerprint_sha256(der_of(cert))
    pinned = ":".join(["5A"] * 32)
    with client(server.url, Trust(mode="pinned", pin_sha256=pinned)) as c:
        with pytest.raises(CertificateChanged) as info:
            c.sign_in("operator", PASSWORD, CLIENT)
        assert c.tls_handshakes == 1
    err = info.value
    assert (err.pinned, err.presented) == (pinned, actual)
    assert pinned in str(err) and actual in str(err)
    assert str(err).endswith("then run: vms-tray servers trust office")
    (conn,) = server.wait_all_closed(1)
    # The TLS handshake reached the server, and then not one byte: no request, no password.
    assert conn.handshake_done
    assert bytes(conn.received) == b""


def test_the_pinned_certificate_is_accepted_whatever_its_name(ca: trustme.CA) -> None:
    # An appliance whose certificate names something else entirely.
    odd = ca.issue_cert("camera-nvr.local")
    pin = tls.fingerprint_sha256(der_of(odd))
    with recorder(odd, SERVER_JSON) as r, client(r.url, Trust(mode="pinned", pin_sha256=pin)) as c:
        assert c.server_info().product == "raw-tls"
        assert c.server_info().api_version == "1.0"
        assert c.tls_handshakes == 1
        assert r.connections[0].requests == 2


def test_fetch_peer_certificate_sends_nothing(server: TLSRecorder, cert: trustme.LeafCert) -> None:
    peer = tls.fetch_peer_certificate(server.url, timeout=5)
    assert peer.sha256 == tls.fingerprint_sha256(der_of(cert))
    assert peer.der == der_of(cert)
    assert "localhost" in peer.dns_names
    (conn,) = server.wait_all_closed(1)
    assert conn.handshake_done and bytes(conn.received) == b""


def test_first_contact_with_an_unknown_certificate(
    server: TLSRecorder, cert: trustme.LeafCert
) -> None:
    with client(server.url, Trust()) as c, pytest.raises(CertificateUntrusted) as info:
        c.sign_in("operator", PASSWORD, CLIENT)
    fingerprint = tls.fingerprint_sha256(der_of(cert))
    assert info.value.fingerprint == fingerprint
    message = str(info.value)
    assert fingerprint in message and "127.0.0.1" in message
    assert "not signed by an authority this computer trusts" in message
    assert message.endswith("then run: vms-tray servers trust office")
    # The refused handshake and the fingerprint read: two connections, no request bytes.
    conns = server.wait_all_closed(2)
    assert all(bytes(c.received) == b"" for c in conns)


def test_ca_file_trust(server: TLSRecorder, ca: trustme.CA, tmp_path: Path) -> None:
    pem = tmp_path / "site-ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    with client(server.url, Trust(mode="ca-file", ca_file=str(pem))) as c:
        assert c.server_info().name == "recorder"


def test_ca_file_of_another_authority(server: TLSRecorder, tmp_path: Path) -> None:
    pem = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(pem))
    trust = Trust(mode="ca-file", ca_file=str(pem))
    with client(server.url, trust) as c, pytest.raises(CertificateUntrusted) as info:
        c.server_info()
    assert str(pem) in str(info.value) and info.value.fingerprint


def test_ca_file_trust_still_checks_the_name(ca: trustme.CA, tmp_path: Path) -> None:
    pem = tmp_path / "site-ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    elsewhere = ca.issue_cert("vms.elsewhere.example")
    with recorder(elsewhere) as r, client(r.url, Trust(mode="ca-file", ca_file=str(pem))) as c:
        with pytest.raises(CertificateUntrusted, match="issued for another"):
            c.server_info()
        conns = r.wait_all_closed(2)
    assert all(bytes(x.received) == b"" for x in conns)


def test_the_reference_servers_self_signed_certificate(refserver: RefServer) -> None:
    conn = Connection("ref", refserver.url, "anna")
    with NativeServer(conn, timeout=5) as c, pytest.raises(CertificateUntrusted) as info:
        c.server_info()
    assert info.value.fingerprint == refserver.fingerprint
    # Trusting what was shown is what 'vms-tray servers trust' does.
    pinned = Trust(mode="pinned", pin_sha256=info.value.fingerprint)
    with NativeServer(Connection("ref", refserver.url, "anna", trust=pinned), timeout=5) as c:
        assert c.server_info().api_version.startswith("1")
