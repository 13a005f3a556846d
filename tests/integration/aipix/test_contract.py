"""The aipix kind keeps the server-kind contract against the AIPIX simulator over real TLS, in
the readings where the sources disagree on what the kind sees (note §7)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.aipix import AipixContract
from tests.support.refserver import RefServer
from vms_tray.connections.model import Connection
from vms_tray.kinds.aipix import AipixServer
from vms_tray.testing.kinds import KindTarget, unused_local_url

from .helpers import aipix_for, simulator

pytestmark = pytest.mark.integration

READINGS = {
    "documented": (),
    # note §7.1, §7.2: the limit as 429 with a bare array of sessions; §3 Session ``last`` and
    # §3 E2 ``ttl`` [INF unit] (§7.7): in milliseconds
    "limit-429-array-ms": (
        "limit_status=429",
        "limit_body=array",
        "last_unit=milliseconds",
        "captcha_ttl_unit=milliseconds",
    ),
    # note §7.6, §3 E6 [GAP], §1 Content-Type (24.12), §1 X-UUID [INF]
    "prefix-status-both-uuid": (
        "token_prefix=true",
        "logout_reply=status",
        "required_headers=both",
        "uuid_keyed=true",
        "session_last=false",
    ),
}


class TestAipixAgainstTheSimulator(AipixContract):
    @pytest.fixture(params=list(READINGS))
    def kind_target(
        self,
        request: pytest.FixtureRequest,
        refserver_factory: Callable[..., RefServer],
        tmp_path: Path,
    ) -> KindTarget:
        # Long enough that no token or random id contains it by chance (the contract checks
        # that the password shows in no repr: "pw" once matched a session id).
        password = "contract password 1"
        server = simulator(
            refserver_factory, *READINGS[request.param], users={"anna": password}, max_sessions=2
        )
        return KindTarget(
            connect=lambda: aipix_for(server, tmp_path),
            login="anna",
            password=password,
            unreachable=lambda: AipixServer(
                Connection("gone", unused_local_url(), "anna", kind="aipix"),
                timeout=5,
                profile_dir=tmp_path / "gone",
            ),
            seats=2,
        )
