"""macOS LaunchAgent: ``~/Library/LaunchAgents/<label>.plist``, loaded by launchd at login in
the GUI (Aqua) session, restarted after a crash but not after a clean quit.

``enable`` writes the plist and runs ``launchctl enable gui/UID/LABEL``, which clears a
"disabled" override a user may have set, so the agent really runs at the next login. It does not
``bootstrap`` the agent now (``RunAtLoad`` would start a second tray), and ``disable`` does not
``bootout`` it (that would kill the running tray the user is clicking in): launchd forgets the
job at logout once the file is gone.
"""

from __future__ import annotations

import plistlib
import re
from pathlib import Path
from typing import Any

from vms_tray.autostart import templates
from vms_tray.autostart.base import (
    AutostartBackend,
    AutostartError,
    AutostartStatus,
    CommandResult,
    executable_exists,
    remove_file,
    write_if_changed,
)

LABEL = "org.vms-tray.agent"
THROTTLE_SECONDS = 30


def render_launch_agent(argv: tuple[str, ...], label: str = LABEL) -> str:
    # Imported here: xml.sax.saxutils imports urllib.request (http.client, ssl, email), about
    # 25 ms at every start of every command, for a plist written only on macOS (issue 13).
    from xml.sax.saxutils import escape

    program_arguments = "\n".join(f"\t\t<string>{escape(arg)}</string>" for arg in argv)
    return templates.render(
        "launchagent.plist.in",
        label=escape(label),
        program_arguments=program_arguments,
        throttle=str(THROTTLE_SECONDS),
    )


class LaunchAgent(AutostartBackend):
    name = "launchd"
    description = "macOS LaunchAgent (~/Library/LaunchAgents), GUI session only"

    @property
    def viable(self) -> bool:
        return self.system.platform == "darwin"

    @property
    def priority(self) -> int:
        return 50

    @property
    def path(self) -> Path:
        return self.system.home / "Library" / "LaunchAgents" / f"{LABEL}.plist"

    @property
    def location(self) -> str:
        return str(self.path)

    @property
    def service_target(self) -> str:
        return f"gui/{self.system.uid}/{LABEL}"

    def _run(self, *args: str) -> CommandResult:
        try:
            return self.system.runner(["launchctl", *args])
        except OSError as exc:
            raise AutostartError(
                f"cannot run launchctl: {exc.strerror or exc} (is this macOS?)"
            ) from exc

    def render(self) -> str:
        return render_launch_agent(self.system.command)

    def enable(self) -> AutostartStatus:
        write_if_changed(self.path, self.render())
        # Best effort: an old macOS without the gui/ domain still loads the file at login.
        self._run("enable", self.service_target)
        return self.status()

    def disable(self) -> bool:
        return remove_file(self.path)

    def status(self) -> AutostartStatus:
        path = self.path
        if not path.exists():
            return AutostartStatus(self.name, False, str(path))
        command: tuple[str, ...] | None = None
        notes: list[str] = []
        try:
            raw = path.read_bytes()
            data: Any = plistlib.loads(raw)
            args = data.get("ProgramArguments") if isinstance(data, dict) else None
            if isinstance(args, list) and all(isinstance(a, str) for a in args):
                command = tuple(args)
            current = raw.decode("utf-8") == self.render()
        except (OSError, ValueError, plistlib.InvalidFileException):
            current = False
            notes.append("the property list cannot be read; 'enable' rewrites it")
        loaded = self._run("print", self.service_target).returncode == 0
        if loaded:
            notes.append("loaded in this session")
        overrides = self._run("print-disabled", f"gui/{self.system.uid}")
        # macOS 10.x prints "LABEL" => true, later versions "LABEL" => disabled.
        disabled = overrides.returncode == 0 and bool(
            re.search(rf'"{re.escape(LABEL)}" => (true|disabled)', overrides.stdout)
        )
        if disabled:
            notes.append("disabled with 'launchctl disable'; 'enable' clears that")
        return AutostartStatus(
            self.name,
            True,
            str(path),
            command=command,
            executable_exists=executable_exists(command[0] if command else None),
            up_to_date=current,
            active=not disabled,
            notes=tuple(notes),
        )
