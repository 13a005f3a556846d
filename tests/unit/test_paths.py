"""Where vms-tray keeps its files: one folder under VMS_TRAY_PROFILE, else the platform's user
folders; the run folder only where it is private."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from vms_tray import paths

linux_only = pytest.mark.skipif(
    sys.platform in ("win32", "darwin"), reason="XDG folders are Linux's and the BSDs'"
)


def test_a_profile_holds_every_folder(isolated_profile: Path) -> None:
    assert paths.config_dir() == isolated_profile / "config"
    assert paths.config_file() == isolated_profile / "config" / "servers.toml"
    assert paths.settings_file() == isolated_profile / "config" / "settings.toml"
    assert paths.data_dir() == isolated_profile / "data"
    assert paths.log_dir() == isolated_profile / "log"
    assert paths.runtime_dir() == isolated_profile / "run"


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No profile: the XDG variables point into tmp_path."""
    monkeypatch.delenv("VMS_TRAY_PROFILE")
    for name in ("CONFIG", "DATA", "STATE"):
        monkeypatch.setenv(f"XDG_{name}_HOME", str(tmp_path / name.lower()))
    return tmp_path


@linux_only
def test_without_a_profile_the_xdg_folders(xdg: Path) -> None:
    assert paths.config_file() == xdg / "config" / "vms-tray" / "servers.toml"
    assert paths.settings_file() == xdg / "config" / "vms-tray" / "settings.toml"
    assert paths.data_dir() == xdg / "data" / "vms-tray"
    assert paths.log_dir().is_relative_to(xdg / "state" / "vms-tray")


@linux_only
def test_a_private_xdg_runtime_dir_holds_the_run_folder(
    xdg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = xdg / "runtime"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    assert paths.runtime_dir() == runtime / "vms-tray"


@linux_only
@pytest.mark.parametrize("problem", ["unset", "relative", "missing", "open to others", "a link"])
def test_an_unusable_xdg_runtime_dir_means_the_state_folder_not_tmp(
    xdg: Path, monkeypatch: pytest.MonkeyPatch, problem: str
) -> None:
    runtime = xdg / "runtime"
    runtime.mkdir(mode=0o700)
    value = str(runtime)
    if problem == "unset":
        monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    else:
        if problem == "relative":
            value = "runtime"
        elif problem == "missing":
            value = str(xdg / "gone")
        elif problem == "open to others":
            runtime.chmod(0o755)
        else:
            link = xdg / "link"
            link.symlink_to(runtime)
            value = str(link)
        monkeypatch.setenv("XDG_RUNTIME_DIR", value)
    assert paths.runtime_dir() == xdg / "state" / "vms-tray" / "run"


@linux_only
def test_a_runtime_dir_of_another_user_is_not_used(
    xdg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.getuid() != 0:
        pytest.skip("only root can make a folder that belongs to somebody else")
    theirs = xdg / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 12345, 12345)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(theirs))
    assert paths.runtime_dir() == xdg / "state" / "vms-tray" / "run"


def test_the_system_folder_is_the_profiles_or_the_variables(
    isolated_profile: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert paths.system_config_dirs() == [isolated_profile / "system"]
    monkeypatch.setenv("VMS_TRAY_SYSTEM_CONFIG", str(tmp_path / "etc"))
    assert paths.system_servers_file() == tmp_path / "etc" / "servers.toml"
    assert paths.policy_file() == tmp_path / "etc" / "policy.toml"


@linux_only
def test_without_a_profile_the_first_xdg_config_dir_that_holds_the_file(
    xdg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VMS_TRAY_SYSTEM_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_DIRS", f"{xdg}/a:{xdg}/b")
    (xdg / "b" / "vms-tray").mkdir(parents=True)
    (xdg / "b" / "vms-tray" / "policy.toml").write_text("")
    assert paths.system_config_dirs() == [xdg / "a" / "vms-tray", xdg / "b" / "vms-tray"]
    assert paths.policy_file() == xdg / "b" / "vms-tray" / "policy.toml"
    assert paths.system_servers_file() == xdg / "a" / "vms-tray" / "servers.toml"
