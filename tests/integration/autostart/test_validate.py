"""The written files, checked by the ecosystem's own tools: desktop-file-validate,
systemd-analyze --user verify, systemd's XDG autostart generator, and a real offline
``systemctl --user enable/disable`` in a temporary HOME."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.components import require, require_binary
from tests.unit.autostart.fakes import fake_interpreter, tree
from vms_tray.autostart import get_backend
from vms_tray.autostart.base import CommandResult, SubprocessRunner, System
from vms_tray.autostart.shortcut import XdgLauncher

pytestmark = pytest.mark.integration

GENERATOR = Path("/usr/lib/systemd/user-generators/systemd-xdg-autostart-generator")


@pytest.fixture
def isolated(tmp_path: Path) -> dict[str, str]:
    """An environment in which no tool can reach the developer's own session or user manager."""
    home = tmp_path / "home"
    runtime = tmp_path / "runtime"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CONFIG_DIRS": str(tmp_path / "no-system-config"),
        "LANG": "C.UTF-8",
    }


@pytest.fixture
def system(tmp_path: Path, isolated: dict[str, str]) -> System:
    # A real executable at a path that needs quoting in every format.
    python = fake_interpreter(tmp_path / "my venv $HOME 100%" / "bin")
    command = (str(python), "-m", "vms_tray", "run")
    return System(
        platform="linux",
        home=Path(isolated["HOME"]),
        env=isolated,
        runner=SubprocessRunner(base_env=isolated),
        command=command,
        gui_command=command,
        uid=os.getuid(),
    )


def tool(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_desktop_files_pass_desktop_file_validate(system: System, isolated: dict[str, str]) -> None:
    require_binary("desktop-file-validate")
    autostart = get_backend("xdg", system)
    autostart.enable()
    launcher = XdgLauncher(system)
    files = [
        Path(autostart.location),
        *[p for p in launcher.install(desktop=True) if p.suffix == ".desktop"],
    ]
    assert len(files) == 3
    for path in files:
        result = tool(["desktop-file-validate", str(path)], isolated)
        assert result.returncode == 0, result.stdout + result.stderr
        # Hints and warnings are not failures, but we want none.
        assert result.stdout.strip() == "", result.stdout

    broken = Path(autostart.location)
    broken.write_text(broken.read_text().replace("Type=Application", "Type=Nonsense"))
    assert tool(["desktop-file-validate", str(broken)], isolated).returncode != 0


def unescape_generated(value: str) -> list[str]:
    """Split an ExecStart= written by systemd's generator (C-escaped, quoted, ':' prefix)."""
    value = value.lstrip(":-@+!")
    args = []
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"|(\S+)', value):
        raw = m.group(1) if m.group(1) is not None else m.group(2)
        args.append(re.sub(r"\\(.)", r"\1", raw).replace("%%", "%"))
    return args


def test_systemd_generator_accepts_the_autostart_entry(
    system: System, isolated: dict[str, str], tmp_path: Path
) -> None:
    require("systemd-xdg-autostart-generator", GENERATOR.exists(), "Debian package systemd")
    # No "%" in this path: systemd 252's generator checks the Exec binary before turning the
    # spec's "%%" back into "%" and would skip the entry (GLib and KDE read it correctly).
    python = fake_interpreter(tmp_path / "my venv $HOME" / "bin")
    system = dataclasses.replace(system, command=(str(python), *system.command[1:]))
    get_backend("xdg", system).enable()
    out = tmp_path / "generated"
    out.mkdir()
    result = tool([str(GENERATOR), str(out), str(out), str(out)], isolated)
    assert result.returncode == 0, result.stderr
    unit = out / "app-vms\\x2dtray@autostart.service"
    assert unit.is_file(), sorted(p.name for p in out.rglob("*"))
    assert (out / "xdg-desktop-autostart.target.wants" / unit.name).is_symlink()
    exec_start = next(
        line.partition("=")[2]
        for line in unit.read_text().splitlines()
        if line.startswith("ExecStart=")
    )
    assert unescape_generated(exec_start) == list(system.command)


def test_generator_skips_an_entry_whose_interpreter_is_gone(
    system: System, isolated: dict[str, str], tmp_path: Path
) -> None:
    # TryExec is why a stale entry does not fail at every login.
    require("systemd-xdg-autostart-generator", GENERATOR.exists(), "Debian package systemd")
    get_backend("xdg", system).enable()
    Path(system.command[0]).unlink()
    out = tmp_path / "generated"
    out.mkdir()
    assert tool([str(GENERATOR), str(out), str(out), str(out)], isolated).returncode == 0
    assert not (out / "app-vms\\x2dtray@autostart.service").exists()


def test_systemd_unit_passes_systemd_analyze_verify(
    system: System, isolated: dict[str, str]
) -> None:
    require_binary("systemd-analyze")
    backend = get_backend("systemd", system, check=False)
    unit = Path(backend.location)
    unit.parent.mkdir(parents=True)
    unit.write_text(backend.render())
    result = tool(["systemd-analyze", "--user", "verify", str(unit)], isolated)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr

    # The check is real: a unit whose program is gone fails it.
    Path(system.command[0]).unlink()
    result = tool(["systemd-analyze", "--user", "verify", str(unit)], isolated)
    assert result.returncode != 0
    assert "is not executable" in result.stderr


def test_real_systemctl_enable_disable_round_trip(system: System) -> None:
    require_binary("systemctl")
    backend = get_backend("systemd", system)
    before = tree(system.home)
    status = backend.enable()
    link = system.config_home / "systemd/user/graphical-session.target.wants/vms-tray.service"
    assert link.is_symlink()
    assert status.installed and status.active and not status.stale
    assert backend.is_enabled()
    assert backend.enable() == status  # idempotent

    assert backend.disable() is True
    assert tree(system.home) == before
    assert not backend.is_enabled()


def test_subprocess_runner_reports_exit_codes_without_raising(isolated: dict[str, str]) -> None:
    runner = SubprocessRunner(base_env=isolated)
    assert runner(["sh", "-c", "echo out; echo err >&2; exit 3"]) == CommandResult(
        3, "out\n", "err\n"
    )
    assert runner(["sh", "-c", 'printf %s "$X"'], env={"X": "y z"}).stdout == "y z"
    with pytest.raises(OSError):
        runner(["/nonexistent/tool"])
