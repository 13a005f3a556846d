"""ZoneMinderServer keeps the server-kind contract against the real ZoneMinder."""

from __future__ import annotations

import pytest

from tests.support.zoneminder import ZoneMinderSetup
from vms_tray.kinds import create_server
from vms_tray.testing.kinds import KindContract, KindTarget, unused_local_url

pytestmark = [pytest.mark.zoneminder, pytest.mark.integration]


class TestZoneMinderAgainstARealZoneMinder(KindContract):
    @pytest.fixture
    def kind_target(self, zm: ZoneMinderSetup) -> KindTarget:
        return KindTarget(
            connect=lambda: create_server(zm.connection()),
            login=zm.user,
            password=zm.password,
            unreachable=lambda: create_server(zm.connection(url=unused_local_url(path="/zm"))),
        )
