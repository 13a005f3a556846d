"""Servers reached through a real HTTP proxy (tinyproxy on loopback), as https_proxy names it.

TLS runs end to end inside the proxy's CONNECT tunnel: pinning, CA trust and the certificate
shown to the user behave exactly as on a direct connection.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.integration.kinds.helpers import DESK
from tests.support.cli import cli_env, run_cli
from tests.support.proxy import TinyProxy, free_port
from tests.support.refserver import RefServer
from vms_tray.connections.model import Connection, Trust
from vms_tray.errors import CertificateChanged, CertificateUntrusted, ServerUnreachable
from vms_tray.kinds import create_server
from vms_tray.kinds.base import ServerKind
from vms_tray.net import tls
from vms_tray.session.records import SignedIn

from .tlsrecorder import SERVER_JSON, TLSRecorder, der_of, recorder

pytestmark = pytest.mark.integration

PROXY_PASSWORD = "proxy-pass-Zq81"


@pytest.fixture(scope="module")
def cert() -> trustme.LeafCert:
    return trustme.CA().issue_cert("127.0.0.1", "localhost")


@pytest.fixture
def server(cert: trustme.LeafCert) -> Iterator[TLSRecorder]:
    with recorder(cert, SERVER_JSON) as r:
        yield r


def through(url: str, trust: Trust, env: dict[str, str]) -> ServerKind:
    """A client as the daemon makes it, reading proxy variables from ``env``."""
    return create_server(Connection("office", url, "anna", trust=trust), timeout=5, env=env)


def pinned(server: RefServer) -> Trust:
    return Trust(mode="pinned", pin_sha256=server.fingerprint)


def test_signed_in_through_the_proxy_on_one_reused_tunnel(
    refserver: RefServer, tinyproxy: TinyProxy
) -> None:
    with through(refserver.url, pinned(refserver), {"https_proxy": tinyproxy.url}) as client:
        outcome = client.sign_in("anna", "pw", DESK)
        assert isinstance(outcome, SignedIn)
        listing = client.list_sessions(outcome.tokens.access_token)
        assert [s.device for s in listing.sessions] == [DESK.device]
        client.sign_out(outcome.tokens)
    assert tinyproxy.tunnels() == 1


def test_no_proxy_goes_direct(refserver: RefServer, tinyproxy: TinyProxy) -> None:
    env = {"HTTPS_PROXY": tinyproxy.url, "no_proxy": "example.com, 127.0.0.0/8"}
    with through(refserver.url, pinned(refserver), env) as client:
        assert client.server_info().product == "vms-tray-refserver"
    assert tinyproxy.tunnels() == 0


def test_a_changed_pin_through_the_proxy_sends_nothing(
    server: TLSRecorder, tinyproxy: TinyProxy
) -> None:
    wrong = Trust(mode="pinned", pin_sha256=":".join(["5A"] * 32))
    with (
        through(server.url, wrong, {"https_proxy": tinyproxy.url}) as client,
        pytest.raises(CertificateChanged),
    ):
        client.sign_in("anna", "pw", DESK)
    (conn,) = server.wait_all_closed(1)
    # The handshake crossed the tunnel; not one byte of HTTP (nor the password) followed it.
    assert conn.handshake_done and bytes(conn.received) == b""
    assert tinyproxy.tunnels() == 1


def test_an_unknown_certificate_is_shown_through_the_proxy(
    server: TLSRecorder, cert: trustme.LeafCert, tinyproxy: TinyProxy
) -> None:
    with (
        through(server.url, Trust(), {"https_proxy": tinyproxy.url}) as client,
        pytest.raises(CertificateUntrusted) as info,
    ):
        client.server_info()
    assert info.value.fingerprint == tls.fingerprint_sha256(der_of(cert))
    conns = server.wait_all_closed(2)  # the refused handshake, then the certificate read
    assert all(bytes(c.received) == b"" for c in conns)
    assert tinyproxy.tunnels() == 2


def test_proxy_credentials_work_and_never_show(refserver: RefServer, tmp_path: Path) -> None:
    proxy = TinyProxy(tmp_path / "auth", user="ops", password=PROXY_PASSWORD).start()
    try:
        good = f"http://ops:{PROXY_PASSWORD}@127.0.0.1:{proxy.port}"
        with through(refserver.url, pinned(refserver), {"https_proxy": good}) as client:
            assert client.server_info().product == "vms-tray-refserver"
        peer = tls.fetch_peer_certificate(refserver.url, timeout=5, proxy=good)
        assert peer.sha256 == refserver.fingerprint
        assert proxy.tunnels() == 2

        bad = f"http://ops:not-{PROXY_PASSWORD}@127.0.0.1:{proxy.port}"
        with (
            through(refserver.url, pinned(refserver), {"https_proxy": bad}) as client,
            pytest.raises(ServerUnreachable) as info,
        ):
            client.server_info()
        message = str(info.value)
        # tinyproxy answers 401 where RFC 9110 says 407; either names the credentials.
        assert message.startswith(f"the proxy 127.0.0.1:{proxy.port} refused a tunnel to ")
        assert "check the user name and password in https_proxy" in message
        with pytest.raises(ServerUnreachable) as fetched:
            tls.fetch_peer_certificate(refserver.url, timeout=5, proxy=bad)
        for text in (message, str(fetched.value)):
            assert PROXY_PASSWORD not in text and "\n" not in text
    finally:
        proxy.stop()


def test_a_proxy_that_refuses_the_port(refserver: RefServer, tmp_path: Path) -> None:
    proxy = TinyProxy(tmp_path / "strict", connect_ports=(443,)).start()
    try:
        with (
            through(refserver.url, pinned(refserver), {"https_proxy": proxy.url}) as client,
            pytest.raises(ServerUnreachable) as info,
        ):
            client.server_info()
        assert "refused a tunnel" in str(info.value) and "403" in str(info.value)
        assert "no_proxy" in str(info.value)
    finally:
        proxy.stop()


def test_a_proxy_that_is_down(refserver: RefServer) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    with (
        through(refserver.url, pinned(refserver), {"https_proxy": down}) as client,
        pytest.raises(ServerUnreachable) as info,
    ):
        client.server_info()
    assert "through the proxy 127.0.0.1:" in str(info.value)
    assert "connection refused" in str(info.value)


def test_servers_trust_reads_the_certificate_through_the_proxy(
    refserver: RefServer, tinyproxy: TinyProxy, tmp_path: Path
) -> None:
    env = cli_env(tmp_path / "profile", https_proxy=tinyproxy.url)

    def cli(*args: str) -> str:
        out = run_cli(env, *args)
        assert out.returncode == 0, out.stderr
        return out.stdout

    cli("servers", "add", "Ref", refserver.url, "--login", "anna")
    cli("servers", "trust", "Ref", "--fingerprint", refserver.fingerprint)
    (listed,) = json.loads(cli("servers", "list", "--json"))
    assert listed["trust"]["pin_sha256"] == refserver.fingerprint
    assert tinyproxy.tunnels() == 1
