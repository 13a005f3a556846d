"""The native kind keeps the server-kind contract against the real reference server."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.refserver import RefServer
from vms_tray.connections.model import Connection
from vms_tray.kinds.native import NativeServer
from vms_tray.testing.kinds import KindContract, KindTarget, unused_local_url

from .helpers import native_for

pytestmark = pytest.mark.integration

# Long enough that no token or random id can contain it by chance: the contract checks that the
# password shows in no repr or message ("pw" once matched a session id).
PASSWORD = "contract password 1"


class TestNativeAgainstTheReferenceServer(KindContract):
    @pytest.fixture
    def kind_target(self, refserver_factory: Callable[..., RefServer]) -> KindTarget:
        refserver = refserver_factory(users={"anna": PASSWORD}, max_sessions=2)
        return KindTarget(
            connect=lambda: native_for(refserver),
            login="anna",
            password=PASSWORD,
            unreachable=lambda: NativeServer(
                Connection("gone", unused_local_url(), "anna"), timeout=5
            ),
            seats=2,
        )
