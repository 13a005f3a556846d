"""The real ZoneMinder server for these tests (set up by scripts/setup-zoneminder)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.proxy import tinyproxy  # noqa: F401
from tests.support.zoneminder import ZoneMinderSetup, require_zoneminder


@pytest.fixture(scope="session")
def zm_setup() -> ZoneMinderSetup:
    return require_zoneminder()


@pytest.fixture
def zm(zm_setup: ZoneMinderSetup) -> Iterator[ZoneMinderSetup]:
    """The server, with the test user's tokens, API access and state as the script left them."""
    zm_setup.reset()
    yield zm_setup
    zm_setup.reset()
