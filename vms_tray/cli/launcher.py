"""``vms-tray desktop-launcher add|remove|status``: the launcher on the desktop, for a user who
said "Not now" to the first start's offer (or changed their mind the other way).

What the commands run (:mod:`vms_tray.autostart`, every method's backend, and the tray's offer
memory) is imported inside them: ``--help`` and the other commands do not pay for it (CLI
start-up, issue 13).
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vms_tray.autostart.desktop_launcher import DesktopLauncher


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "desktop-launcher",
        help="put a vms-tray launcher on the desktop, or take it away",
        description=(
            "A vms-tray launcher on the desktop (xdg-user-dir DESKTOP, else ~/Desktop), the twin "
            "of the application-menu entry. The tray offers it once, at its first start."
        ),
    )
    sub = p.add_subparsers(dest="launcher_command", metavar="ACTION")
    sub.required = True
    for name, func, text in (
        ("add", _add, "put the launcher on the desktop (and in the menu, when it is not there)"),
        ("remove", _remove, "remove the launcher from the desktop (the menu entry stays)"),
        ("status", _status, "say whether the launcher is on the desktop, and where"),
    ):
        cmd = sub.add_parser(name, help=text, description=text)
        cmd.add_argument("--json", action="store_true", help="machine-readable output")
        cmd.set_defaults(func=func)


def _launcher() -> DesktopLauncher:
    from vms_tray.autostart.base import System
    from vms_tray.autostart.desktop_launcher import DesktopLauncher

    return DesktopLauncher(System.current())


def _remember(answer: str) -> None:
    from vms_tray.tray.desktop_offer import KEY, Offers

    Offers().remember(KEY, answer)


def _add(args: argparse.Namespace) -> int:
    from vms_tray.tray.desktop_offer import ADDED

    written = _launcher().add()
    _remember(ADDED)  # the tray need not ask any more
    if args.json:
        print(json.dumps({"installed": [str(p) for p in written]}))
    else:
        for path in written:
            print(f"installed {path}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    from vms_tray.tray.desktop_offer import DECLINED

    removed = _launcher().remove()
    _remember(DECLINED)  # removed on purpose: never offered again
    if args.json:
        print(json.dumps({"removed": [str(p) for p in removed]}))
    elif removed:
        for path in removed:
            print(f"removed {path}")
    else:
        print("no launcher on the desktop")
    return 0


def _status(args: argparse.Namespace) -> int:
    launcher = _launcher()
    path, present = launcher.path, launcher.present()
    if args.json:
        print(json.dumps({"path": str(path) if path else None, "present": present}))
    elif path is None:
        print("no desktop folder (xdg-user-dir DESKTOP names none, and ~/Desktop is missing)")
    else:
        print(f"{'on the desktop' if present else 'not on the desktop'}: {path}")
    return 0
