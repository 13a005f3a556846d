"""The native kind keeps the server-kind contract against the real reference server."""

from __future__ import annotations

import pytest

from tests.support.refserver import RefServer
from vms_tray.connections.model import Connection
from vms_tray.kinds.native import NativeServer
from vms_tray.testing.kinds import KindContract, KindTarget, unused_local_url

from .helpers import native_for

pytestmark = pytest.mark.integration


class TestNativeAgainstTheReferenceServer(KindContract):
    @pytest.fixture
    def kind_target(self, refserver: RefServer) -> KindTarget:
        return KindTarget(
            connect=lambda: native_for(refserver),
            login="anna",
            password="pw",
            unreachable=lambda: NativeServer(
                Connection("gone", unused_local_url(), "anna"), timeout=5
            ),
            seats=2,
        )
