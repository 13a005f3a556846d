"""Clients of the reference server as vms-tray would configure them."""

from __future__ import annotations

from tests.support.refserver import RefServer
from vms_tray.connections.model import Connection, Trust
from vms_tray.kinds.base import ClientInfo
from vms_tray.kinds.native import NativeServer
from vms_tray.session.records import SignedIn, Tokens

DESK = ClientInfo("desk-1", "vms-tray", "0.1.0")
LAPTOP = ClientInfo("laptop-2", "vms-tray", "0.1.0")


def native_for(
    server: RefServer, *, trust: Trust | None = None, timeout: float = 5
) -> NativeServer:
    trust = trust or Trust(mode="pinned", pin_sha256=server.fingerprint)
    return NativeServer(Connection("ref", server.url, "anna", trust=trust), timeout=timeout)


def sign_in(client: NativeServer, info: ClientInfo = DESK) -> Tokens:
    outcome = client.sign_in("anna", "pw", info)
    assert isinstance(outcome, SignedIn), outcome
    return outcome.tokens
