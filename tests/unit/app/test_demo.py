"""``vms-tray demo`` keeps everything in its profile, Start at login too (issue 10 item 11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vms_tray import autostart
from vms_tray.app import demo
from vms_tray.autostart.xdg import FolderAutostart
from vms_tray.refserver.demo import DemoServer


def test_the_demo_keeps_start_at_login_in_its_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    env: dict[str, str] = {}
    profile = tmp_path / "demo" / "profile"
    folder = demo._keep_autostart_in(profile, env)
    assert folder == profile / "autostart"
    monkeypatch.setenv(autostart.ENV_DIR, env[autostart.ENV_DIR])
    backend = autostart.default_backend()
    assert isinstance(backend, FolderAutostart)
    backend.enable()
    assert (folder / "vms-tray.desktop").exists()
    assert not (home / ".config" / "autostart").exists()


def test_the_demo_says_where_start_at_login_writes(tmp_path: Path) -> None:
    class Handle:  # not a running server: the AIPIX simulator's lines
        url = "https://127.0.0.1:1"
        fingerprint = "00"

    server = DemoServer(Handle(), "demo", "pw")  # type: ignore[type-var]
    text = demo._instructions(server, tmp_path / "p", headless=False)  # type: ignore[arg-type]
    assert f"'Start at login' only writes {tmp_path / 'p' / 'autostart'}" in text
    assert "nothing starts at login" in text
