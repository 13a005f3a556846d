"""A tray process driven by a fake daemon at the boundary (snapshot/subscribe/post).

stdin: JSON lines, each a Snapshot's fields (``state`` as its value); each replaces the snapshot.
TRAY_CHILD_AUTOSTART=1 wires the real "Start at login" backend (XDG autostart).
stdout: one JSON line per posted command: ``{"command": "SignIn", "fields": {...}}``, and
``{"ready": true, "backend": "gtk"}`` once the icon is up. Quit makes the tray exit.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
from collections.abc import Callable
from typing import Any

from vms_tray import commands
from vms_tray.session.records import Captcha, Limit, SessionList
from vms_tray.session.snapshot import ServerChoice, Snapshot, State


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def snapshot_from(d: dict[str, Any]) -> Snapshot:
    d = dict(d)
    d["state"] = State(d.get("state", "signed_out"))
    d["servers"] = tuple(ServerChoice(**c) for c in d.get("servers", ()))
    return Snapshot(**d)


class _NoNotices:
    def withdraw(self, topic: str) -> None:
        pass


class FakeDaemon:
    def __init__(self, first: Snapshot) -> None:
        self._snap = first
        self._subs: list[Callable[[Snapshot], None]] = []

    def snapshot(self) -> Snapshot:
        return self._snap

    def subscribe(self, cb: Callable[[Snapshot], None]) -> None:
        self._subs.append(cb)

    def post(self, command: commands.Command) -> None:
        fields = dataclasses.asdict(command)
        _emit({"command": type(command).__name__, "fields": fields})

    def execute(self, command: commands.Command, timeout: float = 15.0) -> None:
        self.post(command)

    def has_password(self, server: str | None) -> bool:
        return True  # every server has a stored password: a switch goes ahead at once

    # The rest of the tray's DaemonPort: nothing to show, nothing stops it but its own Quit.
    notifier = _NoNotices()
    stopped = False

    def on_show(self, callback: Callable[[str], None]) -> None:
        pass

    def on_stop(self, callback: Callable[[], None]) -> None:
        pass

    def captcha(self) -> Captcha | None:
        return None

    def conflict_sessions(self) -> SessionList | None:
        return None

    def sessions(self, timeout: float = 15.0) -> SessionList:
        return SessionList(Limit("user", None, 1), ())

    def push(self, snap: Snapshot) -> None:
        self._snap = snap
        for cb in self._subs:
            cb(snap)


def main() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, format="tray_child %(name)s: %(message)s")
    first = snapshot_from(json.loads(sys.stdin.readline()))
    daemon = FakeDaemon(first)

    def feed() -> None:
        for line in sys.stdin:
            if line.strip():
                daemon.push(snapshot_from(json.loads(line)))

    threading.Thread(target=feed, daemon=True).start()

    from vms_tray import i18n
    from vms_tray.tray.app import TrayApp

    i18n.install()
    import os

    # The real autostart backend only when asked: it writes into XDG_CONFIG_HOME.
    app = TrayApp(daemon, autostart="auto" if os.environ.get("TRAY_CHILD_AUTOSTART") else None)
    orig_start = app.start

    def start() -> None:
        orig_start()
        _emit({"ready": True, "backend": app.icon.backend})

    app.start = start  # type: ignore[method-assign]
    app.run()
    _emit({"exited": True})


if __name__ == "__main__":
    main()
