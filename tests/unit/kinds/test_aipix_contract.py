"""The AIPIX fake keeps the server-kind contract (as the simulator does, over TLS, in
tests/integration/aipix), so the fake cannot drift from what the kind is tested against."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.aipix import AipixContract
from vms_tray.connections.model import Connection
from vms_tray.kinds.aipix import AipixServer
from vms_tray.testing.kinds import KindTarget

from .fakes_aipix import FakeAipix


def refusing() -> httpx.MockTransport:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    return httpx.MockTransport(refuse)


class TestAipixAgainstFakeAipix(AipixContract):
    @pytest.fixture
    def kind_target(self, tmp_path: Path) -> KindTarget:
        fake = FakeAipix(limit=2)
        connection = Connection("hq", "https://vms.example.com", "anna", kind="aipix")
        profiles = iter(range(1000))

        def connect(transport: httpx.MockTransport) -> AipixServer:
            # Each client is another device: a profile (and so an X-UUID) of its own.
            profile = tmp_path / f"device-{next(profiles)}"
            return AipixServer(connection, transport=transport, profile_dir=profile)

        return KindTarget(
            connect=lambda: connect(fake.transport()),
            login="anna",
            password=fake.password,
            unreachable=lambda: connect(refusing()),
            seats=2,
        )
