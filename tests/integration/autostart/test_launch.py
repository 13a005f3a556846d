"""The entries point at *this* installation: the command read back from each installed file
starts an interpreter that imports this vms_tray (a virtualenv here, pipx's venv for users)."""

from __future__ import annotations

import os
import plistlib
import subprocess
from pathlib import Path

import pytest

from vms_tray import __version__
from vms_tray.autostart import get_backend
from vms_tray.autostart.base import System
from vms_tray.autostart.launch import parse_windows_cmdline
from vms_tray.autostart.registry import RunKey
from vms_tray.autostart.shortcut import XdgLauncher
from vms_tray.autostart.xdg import desktop_entry_command

pytestmark = pytest.mark.integration


@pytest.fixture
def system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> System:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(var, raising=False)
    return System.current()


def starts_this_installation(command: tuple[str, ...] | None, cwd: Path) -> None:
    assert command is not None and command[-1] == "run"
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    # Same interpreter and module, "--version" instead of "run": no tray is started.
    out = subprocess.run(
        [*command[:-1], "--version"],
        cwd=cwd,  # not the source tree: the import must come from the installation
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.strip() == f"vms-tray {__version__}"


@pytest.mark.parametrize("method", ["xdg", "systemd", "launchd", "registry"])
def test_every_method_points_at_this_interpreter(
    method: str, system: System, tmp_path: Path
) -> None:
    backend = get_backend(method, system, check=False)
    if method in {"xdg", "systemd"}:
        # The real files (systemd: the unit only; enabling it is covered in test_validate).
        path = Path(backend.location)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(backend.render())
        status = backend.status()
        assert status.executable_exists and not status.stale
        command = status.command
    else:
        # The rendered macOS/Windows entries, read back by the same code status uses.
        if method == "launchd":
            command = tuple(plistlib.loads(backend.render().encode())["ProgramArguments"])
        else:
            assert isinstance(backend, RunKey)
            command = tuple(parse_windows_cmdline(backend.value()))
    starts_this_installation(command, tmp_path)


def test_menu_entry_points_at_this_interpreter(system: System, tmp_path: Path) -> None:
    launcher = XdgLauncher(system)
    entry = launcher.install()[0]
    starts_this_installation(desktop_entry_command(entry), tmp_path)
    launcher.remove()
