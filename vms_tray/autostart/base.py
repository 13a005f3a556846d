"""The autostart backend interface and the seam every backend reaches the OS through.

A backend (like keyring's and pystray's) has a ``name``, a ``priority`` (higher wins on its
platform) and a ``viable`` flag; ``vms_tray.autostart`` picks one in a single place. Backends never
read ``os.environ``, ``Path.home()`` or ``sys.platform`` themselves and never spawn a process
directly: they get a :class:`System`, so the Windows and macOS backends run unchanged on Linux in
tests with a fake registry and a recording command runner.
"""

from __future__ import annotations

import os
import subprocess
import sys
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

from vms_tray import safefs
from vms_tray.autostart.hkcu import Registry, default_registry
from vms_tray.autostart.launch import launch_command
from vms_tray.errors import AutostartError

APP_ID = "vms-tray"

__all__ = ["APP_ID", "AutostartBackend", "AutostartError", "AutostartStatus", "System"]


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: str = ""
    stderr: str = ""


class Runner(Protocol):
    """Runs one OS tool (systemctl, launchctl, powershell) and returns its result; never raises
    for a non-zero exit, only when the tool cannot be started at all (``OSError``)."""

    def __call__(
        self, argv: Sequence[str], env: Mapping[str, str] | None = None
    ) -> CommandResult: ...


class SubprocessRunner:
    """The real runner. ``base_env`` replaces ``os.environ`` for the child (tests give systemctl
    an environment in which it cannot reach the developer's own user manager)."""

    def __init__(self, timeout: float = 30.0, base_env: Mapping[str, str] | None = None) -> None:
        self.timeout = timeout
        self.base_env = dict(base_env) if base_env is not None else None

    def __call__(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> CommandResult:
        base = self.base_env if self.base_env is not None else os.environ
        full_env = {**base, **(env or {})}
        try:
            done = subprocess.run(
                list(argv),
                capture_output=True,
                text=True,
                timeout=self.timeout,
                env=full_env,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return CommandResult(124, "", f"{argv[0]} did not answer in {self.timeout:.0f}s")
        return CommandResult(done.returncode, done.stdout, done.stderr)


@dataclass(frozen=True)
class System:
    """Everything a backend may know about the machine and the user.

    ``command`` is the argv that starts the tray (this installation's interpreter, see
    :mod:`vms_tray.autostart.launch`); ``gui_command`` is the same without a console window
    (pythonw.exe on Windows). ``registry`` is only used on Windows.
    """

    platform: str
    home: Path
    env: Mapping[str, str]
    runner: Runner
    command: tuple[str, ...]
    gui_command: tuple[str, ...]
    uid: int = 0
    registry: Registry | None = None

    @classmethod
    def current(cls) -> System:
        if not sys.executable or not Path(sys.executable).is_absolute():
            raise AutostartError(
                "cannot tell which program runs vms-tray (embedded Python?); "
                "add it to your desktop's startup settings by hand"
            )
        frozen = bool(getattr(sys, "frozen", False))
        getuid = getattr(os, "getuid", None)
        return cls(
            platform=sys.platform,
            home=Path.home(),
            env=dict(os.environ),
            runner=SubprocessRunner(),
            command=tuple(launch_command(sys.executable, sys.platform, gui=False, frozen=frozen)),
            gui_command=tuple(
                launch_command(sys.executable, sys.platform, gui=True, frozen=frozen)
            ),
            uid=getuid() if getuid else 0,
            registry=default_registry(sys.platform),
        )

    @property
    def is_linux_like(self) -> bool:
        # XDG desktops also run on the BSDs.
        return self.platform.startswith(("linux", "freebsd", "openbsd", "netbsd", "dragonfly"))

    def xdg_dir(self, var: str, default: str) -> Path:
        """An XDG base directory: the variable if it is an absolute path, else the default."""
        value = self.env.get(var, "")
        if value and Path(value).is_absolute():
            return Path(value)
        return self.home / default

    @property
    def config_home(self) -> Path:
        return self.xdg_dir("XDG_CONFIG_HOME", ".config")

    @property
    def data_home(self) -> Path:
        return self.xdg_dir("XDG_DATA_HOME", ".local/share")


@dataclass(frozen=True)
class AutostartStatus:
    """What is installed for one method, where, and whether it still works."""

    method: str
    installed: bool
    location: str
    command: tuple[str, ...] | None = None  # as parsed back from the installed entry
    executable_exists: bool | None = None  # None: nothing installed
    up_to_date: bool | None = None  # equal to what ``enable`` would write now
    active: bool | None = None  # the OS's own view (systemctl is-enabled, launchctl print...)
    notes: tuple[str, ...] = ()

    @property
    def executable(self) -> str | None:
        return self.command[0] if self.command else None

    @property
    def stale(self) -> bool:
        """Installed but pointing at an interpreter that is gone (moved venv, upgrade)."""
        return self.installed and self.executable_exists is False

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "installed": self.installed,
            "location": self.location,
            "command": list(self.command) if self.command is not None else None,
            "executable": self.executable,
            "executable_exists": self.executable_exists,
            "stale": self.stale,
            "up_to_date": self.up_to_date,
            "active": self.active,
            "notes": list(self.notes),
        }


def executable_exists(path: str | None) -> bool:
    if not path:
        return False
    p = Path(path)
    return p.is_file() and os.access(p, os.X_OK)


class AutostartBackend(ABC):
    """One way of starting the tray at login on one platform."""

    name: ClassVar[str]
    description: ClassVar[str]

    def __init__(self, system: System) -> None:
        self.system = system

    @property
    @abstractmethod
    def viable(self) -> bool:
        """Whether this method can work on this machine at all."""

    @property
    @abstractmethod
    def priority(self) -> int:
        """Higher is preferred among viable backends; only meaningful when viable."""

    @property
    def why_not_viable(self) -> str:
        return f"{self.name} autostart is not available on {self.system.platform}"

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the entry lives: a file path, or a registry key and value name."""

    @abstractmethod
    def render(self) -> str:
        """The entry :meth:`enable` would write now, as text (``vms-tray autostart show``)."""

    @abstractmethod
    def enable(self) -> AutostartStatus:
        """Install (or repair) the entry. Idempotent: a second call changes nothing."""

    @abstractmethod
    def disable(self) -> bool:
        """Remove exactly what :meth:`enable` added. Returns whether anything was removed."""

    @abstractmethod
    def status(self) -> AutostartStatus: ...

    def is_enabled(self) -> bool:
        """Installed and not switched off by the OS or the user (what "Start at login" shows)."""
        s = self.status()
        return s.installed and s.active is not False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def write_if_changed(path: Path, content: str | bytes, mode: int = 0o644) -> bool:
    """Atomically replace ``path`` when its content differs; returns whether it was written."""
    data = content.encode() if isinstance(content, str) else content
    try:
        if path.read_bytes() == data:
            if (path.stat().st_mode & 0o777) != mode:
                path.chmod(mode)
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        safefs.write_atomic(path, data, mode)
    except OSError as exc:
        raise AutostartError(
            f"cannot write {path}: {exc.strerror or exc} (check the folder's permissions)"
        ) from exc
    return True


def remove_file(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise AutostartError(
            f"cannot remove {path}: {exc.strerror or exc} (check the folder's permissions)"
        ) from exc
    return True
