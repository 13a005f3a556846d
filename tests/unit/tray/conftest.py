from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.tray.fakes import (
    SIGNED_IN,
    FakeAutostart,
    FakeDaemon,
    FakeLauncher,
    RecordingIcon,
    World,
)
from vms_tray import i18n
from vms_tray.tray.app import TrayApp


@pytest.fixture
def world(isolated_profile: Path) -> Iterator[World]:
    """A started tray, signed in to HQ, with every double at its boundary."""
    i18n.install("en")
    daemon = FakeDaemon(SIGNED_IN)
    icon = RecordingIcon()
    launcher = FakeLauncher()
    autostart = FakeAutostart()
    app = TrayApp(
        daemon,
        icon_factory=lambda _i, _p: icon,
        launcher=launcher,
        autostart=autostart,
        open_folder=lambda _path: None,
    )
    app.start()
    yield app, daemon, icon, launcher, autostart
    app.jobs.shutdown()
