"""The unit tests' fake servers keep the server-kind contract, as the real servers do
(tests/integration/kinds, tests/integration/zoneminder): a fake that drifts from its server
fails here."""

from __future__ import annotations

import httpx
import pytest

from vms_tray.connections.model import Connection
from vms_tray.kinds.native import NativeServer
from vms_tray.kinds.zoneminder import ZoneMinderServer
from vms_tray.testing.kinds import KindContract, KindTarget

from .fakes import FakeV1
from .fakes_zoneminder import PASSWORD, START, FakeZoneMinder


def refusing() -> httpx.MockTransport:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    return httpx.MockTransport(refuse)


class TestNativeAgainstFakeV1(KindContract):
    @pytest.fixture
    def kind_target(self) -> KindTarget:
        fake = FakeV1(max_sessions=2)
        connection = Connection("fake", "https://vms.example.com", "operator")
        return KindTarget(
            connect=lambda: NativeServer(connection, transport=fake.transport()),
            login="operator",
            password=fake.password,
            unreachable=lambda: NativeServer(connection, transport=refusing()),
            seats=2,
        )


class TestZoneMinderAgainstFakeZoneMinder(KindContract):
    @pytest.fixture
    def kind_target(self) -> KindTarget:
        fake = FakeZoneMinder()
        connection = Connection("nvr", "https://nvr.example.com/zm", "admin", kind="zoneminder")

        def connect(transport: httpx.MockTransport) -> ZoneMinderServer:
            return ZoneMinderServer(connection, transport=transport, clock=lambda: START)

        return KindTarget(
            connect=lambda: connect(fake.transport()),
            login="admin",
            password=PASSWORD,
            unreachable=lambda: connect(refusing()),
        )
