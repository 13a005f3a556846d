"""``vms-tray autostart`` and ``vms-tray shortcut`` end to end in a temporary HOME (xdg: plain
files, so the real thing runs here)."""

from __future__ import annotations

import json
import plistlib
from pathlib import Path

import pytest

from tests.support.components import require_binary
from vms_tray.cli import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "VMS_TRAY_AUTOSTART_METHOD"):
        monkeypatch.delenv(var, raising=False)
    return home


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_enable_status_disable(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entry = home / ".config/autostart/vms-tray.desktop"
    code, out, _ = run(capsys, "autostart", "status", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["default"] == "xdg"
    assert data["methods"][0]["installed"] is False

    code, out, _ = run(capsys, "autostart", "enable")
    assert code == 0 and entry.is_file()
    assert str(entry) in out

    code, out, _ = run(capsys, "autostart", "status", "--json")
    status = json.loads(out)["methods"][0]
    assert status["installed"] and status["executable_exists"] and not status["stale"]
    assert status["location"] == str(entry)
    assert status["command"][1:] == ["-m", "vms_tray", "run"]

    code, out, _ = run(capsys, "autostart", "disable", "--json")
    assert json.loads(out) == {"method": "xdg", "location": str(entry), "removed": True}
    assert not entry.exists()
    code, out, _ = run(capsys, "autostart", "disable")
    assert code == 0 and "nothing to remove" in out


def test_stale_entry_is_reported_and_repaired(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "autostart", "enable")
    entry = home / ".config/autostart/vms-tray.desktop"
    old = "/opt/removed venv/bin/python"
    text = entry.read_text().replace("Exec=", 'Exec="/opt/removed venv/bin/python" #', 1)
    entry.write_text(text)
    code, out, _ = run(capsys, "autostart", "status")
    assert code == 0
    assert f"broken: {old} no longer exists" in out
    assert "vms-tray autostart enable" in out

    run(capsys, "autostart", "enable")
    code, out, _ = run(capsys, "autostart", "status", "--json")
    status = json.loads(out)["methods"][0]
    assert not status["stale"] and status["up_to_date"]


def test_method_not_available_here(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "autostart", "enable", "--method", "launchd")
    assert code == 1
    assert err.startswith("vms-tray: launchd autostart is not available on linux")
    assert len(err.strip().splitlines()) == 1
    assert not (home / "Library").exists()


def test_show_renders_without_writing(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "autostart", "show", "--method", "launchd")
    assert code == 0
    assert plistlib.loads(out.encode())["RunAtLoad"] is True
    assert "LaunchAgents" in err
    assert not (home / "Library").exists()


def test_shortcut_install_status_remove(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "shortcut", "install", "--desktop", "--json")
    assert code == 0
    installed = json.loads(out)["installed"]
    assert str(home / ".local/share/applications/vms-tray.desktop") in installed
    assert str(home / ".local/share/icons/hicolor/256x256/apps/vms-tray.png") in installed
    assert len(installed) == 3  # plus the desktop copy

    code, out, _ = run(capsys, "shortcut", "status", "--json")
    assert sorted(json.loads(out)["installed"]) == sorted(installed)

    code, out, _ = run(capsys, "shortcut", "remove", "--json")
    assert sorted(json.loads(out)["removed"]) == sorted(installed)
    assert not any(Path(p).exists() for p in installed)
    code, out, _ = run(capsys, "shortcut", "status")
    assert "no launcher installed" in out


def test_two_methods_enabled_is_warned_about(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    require_binary("systemctl")
    # No bus and an empty runtime dir: systemctl works offline on the temporary HOME and can
    # never reach the developer's own user manager.
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)

    run(capsys, "autostart", "enable")
    code, _, err = run(capsys, "autostart", "enable", "--method", "systemd")
    assert code == 0
    assert "also enabled with xdg" in err
    assert "vms-tray autostart disable --method xdg" in err
    assert (
        home / ".config/systemd/user/graphical-session.target.wants/vms-tray.service"
    ).is_symlink()

    code, out, _ = run(capsys, "autostart", "status", "--json")
    assert [m["method"] for m in json.loads(out)["methods"]] == ["xdg", "systemd"]

    run(capsys, "autostart", "disable", "--method", "systemd")
    run(capsys, "autostart", "disable")
    assert not any(p.is_file() or p.is_symlink() for p in home.rglob("*"))


def test_disable_is_refused_when_the_policy_forces_start_at_login(
    home: Path, isolated_profile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = isolated_profile / "system" / "policy.toml"
    policy.parent.mkdir(parents=True)
    policy.write_text("force_autostart = true\n", encoding="utf-8")
    entry = home / ".config/autostart/vms-tray.desktop"
    run(capsys, "autostart", "enable")
    code, out, err = run(capsys, "autostart", "disable")
    assert code == 1 and out == ""
    assert err == (
        "vms-tray: start at login is required by your administrator "
        f"(force_autostart in {policy}) and cannot be turned off\n"
    )
    assert entry.is_file()
    # A duplicate of another method may still go: the default entry stays.
    code, _out, err = run(capsys, "autostart", "disable", "--method", "systemd")
    assert code == 0, err
    assert entry.is_file()
