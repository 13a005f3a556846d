"""Test doubles for the autostart backends' OS seam: a recording command runner and a System
rooted in a temporary HOME, with an interpreter path that needs quoting everywhere; a fake
offline systemctl, and the backend of each method built on them."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vms_tray.autostart import get_backend
from vms_tray.autostart.base import AutostartBackend, CommandResult, System
from vms_tray.testing.autostart import MemoryRegistry

Handler = Callable[[Sequence[str], Mapping[str, str] | None], CommandResult]


@dataclass
class RecordingRunner:
    """Records every command; answers from ``handlers`` (first matching argv prefix) or rc 0."""

    calls: list[list[str]] = field(default_factory=list)
    envs: list[dict[str, str]] = field(default_factory=list)
    handlers: list[tuple[tuple[str, ...], Handler]] = field(default_factory=list)

    def on(self, prefix: Sequence[str], handler: Handler) -> None:
        self.handlers.append((tuple(prefix), handler))

    def answer(self, prefix: Sequence[str], returncode: int, stdout: str = "") -> None:
        self.on(prefix, lambda _argv, _env: CommandResult(returncode, stdout, ""))

    def __call__(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> CommandResult:
        self.calls.append(list(argv))
        self.envs.append(dict(env or {}))
        for prefix, handler in self.handlers:
            if tuple(argv[: len(prefix)]) == prefix:
                return handler(argv, env)
        return CommandResult(0, "", "")


def fake_interpreter(directory: Path, name: str = "python") -> Path:
    """An executable that records its arguments, standing in for a venv's python."""
    directory.mkdir(parents=True, exist_ok=True)
    exe = directory / name
    exe.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$(dirname "$0")/ran-with"\n')
    exe.chmod(0o755)
    return exe


@dataclass
class SystemFactory:
    tmp: Path
    runner: RecordingRunner
    registry: MemoryRegistry

    @property
    def home(self) -> Path:
        return self.tmp / "home"

    def __call__(
        self,
        platform: str = "linux",
        interpreter: Path | str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> System:
        if interpreter is None:
            # Spaces, a dollar and a percent sign: every format's quoting is exercised.
            interpreter = fake_interpreter(self.tmp / "my venv $HOME 100%" / "bin")
        command = (str(interpreter), "-m", "vms_tray", "run")
        self.home.mkdir(parents=True, exist_ok=True)
        return System(
            platform=platform,
            home=self.home,
            env={"PATH": os.environ.get("PATH", ""), **(env or {})},
            runner=self.runner,
            command=command,
            gui_command=command,
            uid=501,
            registry=self.registry if platform == "win32" else None,
        )


def tree(root: Path) -> dict[str, str]:
    """Every file and symlink under ``root`` (relative path -> kind), to compare before/after."""
    out: dict[str, str] = {}
    if not root.exists():
        return out
    for p in sorted(root.rglob("*")):
        if p.is_symlink():
            out[str(p.relative_to(root))] = "link"
        elif p.is_file():
            out[str(p.relative_to(root))] = "file"
    return out


PLATFORM = {"xdg": "linux", "systemd": "linux", "launchd": "darwin", "registry": "win32"}


def fake_systemctl(runner: RecordingRunner, config_home: Path) -> None:
    """Does what offline ``systemctl --user enable/disable`` does to the unit's wants link."""
    link = config_home / "systemd/user/graphical-session.target.wants/vms-tray.service"

    def handle(argv: Sequence[str], _env: Mapping[str, str] | None) -> CommandResult:
        if argv[2] == "enable":
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(config_home / "systemd/user/vms-tray.service")
        elif argv[2] == "disable":
            link.unlink(missing_ok=True)
        return CommandResult(0)

    runner.on(["systemctl", "--user", "enable"], handle)
    runner.on(["systemctl", "--user", "disable"], handle)
    # No user manager in CI: daemon-reload fails, and that must not matter.
    runner.answer(["systemctl", "--user", "daemon-reload"], 1)


def backend_for(method: str, make_system: SystemFactory, **kw: object) -> AutostartBackend:
    system = make_system(PLATFORM[method], **kw)  # type: ignore[arg-type]
    if method == "systemd":
        fake_systemctl(make_system.runner, system.config_home)
    return get_backend(method, system, check=False)


def snapshot(make_system: SystemFactory) -> tuple[dict[str, str], dict[tuple[str, str], object]]:
    return tree(make_system.home), dict(make_system.registry.values)
