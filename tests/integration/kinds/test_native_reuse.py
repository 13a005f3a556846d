"""One TLS handshake serves a whole session: connections are kept alive and reused."""

from __future__ import annotations

import pytest

from tests.support.refserver import RefServer

from .helpers import native_for, sign_in

pytestmark = pytest.mark.integration


def test_one_handshake_for_a_hundred_polls(refserver: RefServer) -> None:
    with native_for(refserver) as client:
        client.server_info()
        tokens = sign_in(client)
        for i in range(100):
            client.check(tokens)
            if i % 10 == 0:
                client.list_sessions(tokens.access_token)
        tokens = client.refresh(tokens)
        client.check(tokens)
        client.sign_out(tokens)
        assert client.tls_handshakes == 1
