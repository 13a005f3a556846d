"""Fixtures for the autostart unit tests (the doubles live in ``fakes``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.autostart.fakes import RecordingRunner, SystemFactory
from vms_tray.testing.autostart import MemoryRegistry


@pytest.fixture
def runner() -> RecordingRunner:
    return RecordingRunner()


@pytest.fixture
def registry() -> MemoryRegistry:
    return MemoryRegistry()


@pytest.fixture
def make_system(tmp_path: Path, runner: RecordingRunner, registry: MemoryRegistry) -> SystemFactory:
    return SystemFactory(tmp_path, runner, registry)
