"""What the tray's desktop tests share: the tray child process (tests/desktop/tray_child.py)
with a fake daemon at the boundary, snapshots in on stdin, posted commands out on stdout."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from tests.desktop.conftest import ROOT, wait_for_tray_manager
from tests.support import components

ICON_NAME = "^vms-tray"  # the icon window is named by its tooltip
SERVERS = [
    {"name": "HQ", "default": True, "kind": "native"},
    {"name": "Branch", "default": False, "kind": "native"},
]
SIGNED_IN = {
    "state": "signed_in",
    "server": "HQ",
    "login": "operator",
    "sessions_in_use": 3,
    "max_sessions": 5,
    "servers": SERVERS,
}


class TrayProcess:
    def __init__(
        self,
        desktop: components.Desktop,
        backend: str,
        profile: Path,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.desktop = desktop
        wait_for_tray_manager(desktop)
        env = {
            **desktop.env,
            **(extra_env or {}),
            "PYSTRAY_BACKEND": backend,
            "VMS_TRAY_LANG": "en",
            "VMS_TRAY_PROFILE": str(profile),
            "VMS_TRAY_NOTIFIER": "log",
        }
        if not backend:  # let vms_tray.tray.backend choose, as for a user
            del env["PYSTRAY_BACKEND"]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.desktop.tray_child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.strip():
                self.lines.put(json.loads(line))

    def push(self, snapshot: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(snapshot) + "\n")
        self.proc.stdin.flush()

    def expect(self, key: str, timeout: float = 10) -> dict[str, Any]:
        """The next output line that has ``key`` (skipping others)."""
        while True:
            msg = self.lines.get(timeout=timeout)
            if key in msg:
                return msg

    def icon_window(self) -> str:
        found: list[str] = []

        def embedded() -> bool:
            found[:] = self.desktop.windows(ICON_NAME)
            return bool(found)

        components.wait_until(embedded, 15, "the tray icon window")
        return found[0]

    def icon_box(self) -> tuple[int, int, int, int]:
        return self.desktop.box(self.icon_window())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        # trayer can drop a dock request that arrives while it is still removing the previous
        # icon (GTK does not ask again): let it finish before the next test docks an icon.
        components.wait_until(
            lambda: not self.desktop.windows(ICON_NAME), 10, "trayer to remove the icon"
        )
