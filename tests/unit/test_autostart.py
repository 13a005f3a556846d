"""Choosing the backend (vms_tray.autostart): one per platform by priority, an environment
override, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.components import require_binary
from tests.unit.autostart.fakes import RecordingRunner, SystemFactory, tree
from vms_tray import autostart
from vms_tray.autostart import AutostartError, default_backend, get_backend
from vms_tray.testing.autostart import MemoryRegistry


@pytest.fixture
def runner() -> RecordingRunner:
    return RecordingRunner()


@pytest.fixture
def make_system(tmp_path: Path, runner: RecordingRunner) -> SystemFactory:
    # The autostart folder's conftest.py is not seen from here: the same factory, built here.
    return SystemFactory(tmp_path, runner, MemoryRegistry())


@pytest.mark.parametrize(
    ("platform", "expected"),
    [("linux", "xdg"), ("freebsd14", "xdg"), ("darwin", "launchd"), ("win32", "registry")],
)
def test_default_per_platform(make_system: SystemFactory, platform: str, expected: str) -> None:
    assert default_backend(make_system(platform)).name == expected


def test_viability_per_platform(make_system: SystemFactory) -> None:
    viable = {b.name for b in autostart.all_backends(make_system("darwin")) if b.viable}
    assert viable == {"launchd"}
    viable = {b.name for b in autostart.all_backends(make_system("win32")) if b.viable}
    assert viable == {"registry"}


def test_env_override(make_system: SystemFactory) -> None:
    require_binary("systemctl")
    system = make_system("linux", env={autostart.ENV_METHOD: "systemd"})
    assert default_backend(system).name == "systemd"


def test_env_override_to_an_unusable_method_fails_clearly(make_system: SystemFactory) -> None:
    system = make_system("linux", env={autostart.ENV_METHOD: "launchd"})
    with pytest.raises(AutostartError, match="launchd autostart is not available on linux"):
        default_backend(system)


def test_unknown_method(make_system: SystemFactory) -> None:
    with pytest.raises(AutostartError, match="unknown autostart method 'cron'"):
        get_backend("cron", make_system("linux"))


def test_no_method_on_an_unknown_platform(make_system: SystemFactory) -> None:
    with pytest.raises(AutostartError, match="no way to start vms-tray at login"):
        default_backend(make_system("haiku"))


@pytest.mark.parametrize("platform", ["linux", "darwin", "win32"])
def test_autostart_dir_keeps_the_entry_in_that_folder_only(
    make_system: SystemFactory, platform: str, runner: RecordingRunner, tmp_path: Path
) -> None:
    """VMS_TRAY_AUTOSTART_DIR (the demo's profile) wins over the platform and the method: the
    entry goes into that folder, nothing else is written and no system tool is run."""
    folder = tmp_path / "demo-profile" / "autostart"
    system = make_system(
        platform, env={autostart.ENV_DIR: str(folder), autostart.ENV_METHOD: "systemd"}
    )
    before = tree(make_system.home)
    backend = default_backend(system)
    assert not backend.is_enabled()
    status = backend.enable()
    assert status.installed and status.location == str(folder / "vms-tray.desktop")
    assert backend.is_enabled()
    assert "Exec=" in (folder / "vms-tray.desktop").read_text()
    assert tree(make_system.home) == before  # nothing in the (fake) real home
    assert backend.disable() and not backend.is_enabled()
    assert not runner.calls
