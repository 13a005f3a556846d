"""ZoneMinderServer against a real ZoneMinder 1.36 (Apache + PHP + MariaDB on loopback)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from tests.support.proxy import TinyProxy
from tests.support.zoneminder import ZoneMinderSetup
from vms_tray.connections.model import Connection, Trust
from vms_tray.errors import (
    AccessDenied,
    CertificateChanged,
    CertificateUntrusted,
    TokenExpired,
)
from vms_tray.kinds import create_server, default_client_info
from vms_tray.kinds.zoneminder import ZoneMinderServer
from vms_tray.session.records import SignedIn, Tokens

pytestmark = [pytest.mark.zoneminder, pytest.mark.integration]

CLIENT = default_client_info()


@pytest.fixture
def server(zm: ZoneMinderSetup) -> Iterator[ZoneMinderServer]:
    with open_server(zm.connection()) as s:
        yield s


@contextlib.contextmanager
def open_server(connection: Connection) -> Iterator[ZoneMinderServer]:
    server = create_server(connection)
    assert isinstance(server, ZoneMinderServer)
    try:
        yield server
    finally:
        server.close()


def sign_in(server: ZoneMinderServer, zm: ZoneMinderSetup) -> Tokens:
    outcome = server.sign_in(zm.user, zm.password, CLIENT)
    assert isinstance(outcome, SignedIn)
    return outcome.tokens


def test_sign_in_check_refresh_and_sign_out(server: ZoneMinderServer, zm: ZoneMinderSetup) -> None:
    assert server.server_info().version == ""  # ZoneMinder tells it only after sign-in
    tokens = sign_in(server, zm)
    assert tokens.expires_in == 7200
    assert tokens.refresh_expires_in == 86400
    server.check(tokens)
    info = server.server_info()
    assert (info.product, info.version, info.api_version) == ("ZoneMinder", "1.36.33", "2.0")

    refreshed = server.refresh(tokens)
    assert refreshed.refresh_token == tokens.refresh_token
    assert refreshed.expires_in == 7200
    assert refreshed.refresh_expires_in is not None
    assert 86400 - 60 < refreshed.refresh_expires_in <= 86400
    server.check(refreshed)

    server.sign_out(refreshed)
    server.sign_out(refreshed)  # idempotent
    # ZoneMinder cannot revoke a token at logout: why the kind says server_side_sign_out=False.
    server.check(refreshed)
    # One TLS handshake for the whole conversation: the connection is kept alive and reused.
    assert server.adapter.tls_handshakes == 1


def test_forced_expiry_then_sign_in_again(server: ZoneMinderServer, zm: ZoneMinderSetup) -> None:
    tokens = sign_in(server, zm)
    zm.revoke_tokens()
    with pytest.raises(TokenExpired, match="revoked"):
        server.check(tokens)
    with pytest.raises(TokenExpired, match="sign in again"):
        server.refresh(tokens)
    server.sign_out(tokens)  # a refused token: nothing left to end, no error
    fresh = sign_in(server, zm)
    server.check(server.refresh(fresh))


def test_user_without_api_access(server: ZoneMinderServer, zm: ZoneMinderSetup) -> None:
    with pytest.raises(AccessDenied, match="enable API access for this user in ZoneMinder"):
        server.sign_in(zm.noapi_user, zm.noapi_password, CLIENT)


def test_api_access_withdrawn_while_signed_in(
    server: ZoneMinderServer, zm: ZoneMinderSetup
) -> None:
    tokens = sign_in(server, zm)
    zm.update_user(zm.user, "APIEnabled = 0")
    with pytest.raises(AccessDenied, match="Options → Users"):
        server.refresh(tokens)


def test_changed_certificate_names_both_fingerprints(zm: ZoneMinderSetup) -> None:
    # The same server behind another certificate, as after a re-install of the appliance.
    with (
        open_server(zm.connection(url=zm.alt_url)) as server,
        pytest.raises(CertificateChanged) as info,
    ):
        server.sign_in(zm.user, zm.password, CLIENT)
    assert info.value.pinned == zm.fingerprint
    assert info.value.presented == zm.alt_fingerprint
    assert zm.fingerprint in str(info.value)
    assert zm.alt_fingerprint in str(info.value)


def test_untrusted_self_signed_certificate_shows_its_fingerprint(zm: ZoneMinderSetup) -> None:
    with (
        open_server(zm.connection(trust=Trust(mode="system"))) as server,
        pytest.raises(CertificateUntrusted) as info,
    ):
        server.sign_in(zm.user, zm.password, CLIENT)
    assert info.value.fingerprint == zm.fingerprint
    assert zm.fingerprint in str(info.value)


def test_pinning_the_other_certificate_trusts_that_server(zm: ZoneMinderSetup) -> None:
    trust = Trust(mode="pinned", pin_sha256=zm.alt_fingerprint.lower().replace(":", ""))
    with open_server(zm.connection(url=zm.alt_url, trust=trust)) as server:
        server.check(sign_in(server, zm))


def test_through_a_real_proxy_with_the_pin(zm: ZoneMinderSetup, tinyproxy: TinyProxy) -> None:
    env = {"https_proxy": tinyproxy.url}
    server = create_server(zm.connection(), env=env)
    with server:
        assert isinstance(server, ZoneMinderServer)
        tokens = sign_in(server, zm)
        server.check(server.refresh(tokens))
    assert tinyproxy.tunnels() == 1
