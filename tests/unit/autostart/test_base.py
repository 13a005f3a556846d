"""The contract every backend keeps (enable -> status -> disable round trips in a temporary HOME,
through the OS seam), and the helpers of vms_tray.autostart.base they share."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from tests.unit.autostart.fakes import (
    RecordingRunner,
    SystemFactory,
    backend_for,
    fake_interpreter,
    snapshot,
)
from vms_tray.autostart.base import (
    AutostartError,
    AutostartStatus,
    System,
    executable_exists,
    remove_file,
    write_if_changed,
)


@pytest.mark.parametrize("method", ["xdg", "systemd", "launchd", "registry"])
def test_round_trip(method: str, make_system: SystemFactory) -> None:
    backend = backend_for(method, make_system)
    before = snapshot(make_system)
    assert backend.status().installed is False
    assert backend.is_enabled() is False

    status = backend.enable()
    assert status.installed and status.up_to_date and not status.stale
    assert status.executable_exists is True
    assert status.command == backend.system.command
    assert backend.is_enabled() is True
    after_first = snapshot(make_system)

    # Idempotent: same files, same contents.
    contents = {
        p: (make_system.home / p).read_bytes() for p, k in after_first[0].items() if k == "file"
    }
    backend.enable()
    assert snapshot(make_system) == after_first
    assert contents == {p: (make_system.home / p).read_bytes() for p in contents}

    assert backend.disable() is True
    assert snapshot(make_system) == before  # exactly what enable added, nothing else
    assert backend.status().installed is False
    assert backend.disable() is False


@pytest.mark.parametrize("method", ["xdg", "systemd", "launchd", "registry"])
def test_stale_entry_is_reported_and_fixed_by_enable(
    method: str, make_system: SystemFactory
) -> None:
    old_python = fake_interpreter(make_system.tmp / "old venv" / "bin")
    backend_for(method, make_system, interpreter=old_python).enable()
    shutil.rmtree(make_system.tmp / "old venv")  # the venv was moved away

    make_system.runner.handlers.clear()
    current = backend_for(method, make_system)
    status = current.status()
    assert status.installed and status.stale
    assert status.executable == str(old_python)
    assert status.up_to_date is False
    assert status.as_dict()["stale"] is True

    repaired = current.enable()
    assert not repaired.stale and repaired.up_to_date
    assert repaired.command == current.system.command


def test_write_if_changed_writes_only_a_difference(tmp_path: Path) -> None:
    path = tmp_path / "new folder" / "entry"
    assert write_if_changed(path, "one\n") is True
    assert path.read_text() == "one\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert write_if_changed(path, b"one\n") is False  # same bytes: not rewritten
    assert write_if_changed(path, "two\n", mode=0o755) is True
    assert path.read_text() == "two\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o755


def test_write_if_changed_repairs_the_mode_of_an_unchanged_file(tmp_path: Path) -> None:
    path = tmp_path / "entry"
    path.write_text("same")
    path.chmod(0o600)
    assert write_if_changed(path, "same", mode=0o644) is False
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_remove_file_says_whether_it_removed_anything(tmp_path: Path) -> None:
    path = tmp_path / "entry"
    path.write_text("x")
    assert remove_file(path) is True
    assert not path.exists()
    assert remove_file(path) is False


def test_remove_file_that_cannot_be_removed_is_one_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "entry"
    folder.mkdir()  # a folder where the file should be: unlink fails
    with pytest.raises(AutostartError, match=r"cannot remove .*check the folder's permissions"):
        remove_file(folder)
    assert folder.is_dir()


def _system(env: dict[str, str], platform: str = "linux") -> System:
    home = Path("/home/ann")
    return System(
        platform=platform,
        home=home,
        env=env,
        runner=RecordingRunner(),
        command=("/usr/bin/python3", "-m", "vms_tray", "run"),
        gui_command=("/usr/bin/python3", "-m", "vms_tray", "run"),
    )


def test_xdg_base_directories_follow_the_spec() -> None:
    assert _system({}).config_home == Path("/home/ann/.config")
    assert _system({}).data_home == Path("/home/ann/.local/share")
    custom = _system({"XDG_CONFIG_HOME": "/cfg", "XDG_DATA_HOME": "/data"})
    assert custom.config_home == Path("/cfg")
    assert custom.data_home == Path("/data")
    # Empty or relative values are invalid per the basedir spec: the default is used.
    assert _system({"XDG_CONFIG_HOME": ""}).config_home == Path("/home/ann/.config")
    assert _system({"XDG_DATA_HOME": "share"}).data_home == Path("/home/ann/.local/share")


@pytest.mark.parametrize(
    ("platform", "linux_like"),
    [
        ("linux", True),
        ("freebsd14", True),
        ("openbsd7", True),
        ("netbsd10", True),
        ("dragonfly6", True),
        ("darwin", False),
        ("win32", False),
    ],
)
def test_xdg_desktops_run_on_linux_and_the_bsds(platform: str, linux_like: bool) -> None:
    assert _system({}, platform).is_linux_like is linux_like


def test_status_of_nothing_installed_is_not_stale() -> None:
    status = AutostartStatus(method="xdg", installed=False, location="/x")
    assert status.executable is None
    assert status.stale is False
    assert status.as_dict() == {
        "method": "xdg",
        "installed": False,
        "location": "/x",
        "command": None,
        "executable": None,
        "executable_exists": None,
        "stale": False,
        "up_to_date": None,
        "active": None,
        "notes": [],
    }


def test_status_of_an_entry_whose_interpreter_is_gone_is_stale() -> None:
    status = AutostartStatus(
        method="systemd",
        installed=True,
        location="/u",
        command=("/gone/python", "-m", "vms_tray", "run"),
        executable_exists=False,
        notes=("a note",),
    )
    assert status.executable == "/gone/python"
    assert status.stale is True
    data = status.as_dict()
    assert data["command"] == ["/gone/python", "-m", "vms_tray", "run"]
    assert data["stale"] is True
    assert data["notes"] == ["a note"]


def test_executable_exists_needs_an_executable_file(tmp_path: Path) -> None:
    assert executable_exists(None) is False
    assert executable_exists("") is False
    assert executable_exists(str(tmp_path / "missing")) is False
    assert executable_exists(str(tmp_path)) is False  # a folder is no program
    plain = tmp_path / "plain"
    plain.write_text("")
    plain.chmod(0o644)
    assert executable_exists(str(plain)) is False
    assert executable_exists(str(fake_interpreter(tmp_path / "bin"))) is True
