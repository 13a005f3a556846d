"""Fixtures shared by every test: an isolated profile, and the real desktop components."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import components


@pytest.fixture(autouse=True)
def isolated_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own VMS_TRAY_PROFILE: nothing touches a real user profile."""
    profile = tmp_path / "profile"
    monkeypatch.setenv("VMS_TRAY_PROFILE", str(profile))
    return profile


@pytest.fixture(scope="session")
def secret_service_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment of a private D-Bus session with an unlocked gnome-keyring in it."""
    work = tmp_path_factory.mktemp("keyring")
    home = work / "home"
    runtime = work / "runtime"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    base = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime)}
    base.pop("DBUS_SESSION_BUS_ADDRESS", None)
    with components.dbus_session(base, work) as session, components.secret_service(session) as env:
        yield env


@pytest.fixture(scope="session")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[components.Desktop]:
    """Xvfb + D-Bus session + gnome-keyring + dunst + trayer (one for the whole run)."""
    with components.x_desktop(tmp_path_factory.mktemp("desktop")) as d:
        yield d
