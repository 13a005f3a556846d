"""``vms-tray autostart enable|disable|status|show`` and ``vms-tray shortcut ...``.

:mod:`vms_tray.autostart` (every method's backend: subprocess, tempfile, the launch command) is
imported by these commands only, and the autostart parser is filled when it is chosen (its
``--method`` choices are the backends' names): CLI start-up, issue 13.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vms_tray.autostart.base import AutostartBackend, AutostartStatus


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("autostart", help="start vms-tray at login")
    p.fill = _fill_autostart
    _register_shortcut(subparsers)


def _fill_autostart(p: argparse.ArgumentParser) -> None:
    from vms_tray import autostart

    p.description = (
        "Start vms-tray when you log in. Default method: xdg on Linux, launchd on macOS, "
        f"registry on Windows (environment variable {autostart.ENV_METHOD} overrides)."
    )
    sub = p.add_subparsers(dest="autostart_command", metavar="ACTION")
    sub.required = True
    for name, func, text in (
        (
            "enable",
            _enable,
            "start at login (repairs an entry left by a moved or upgraded install)",
        ),
        ("disable", _disable, "stop starting at login (removes exactly what enable added)"),
        ("status", _status, "show what is installed, where, and whether it still works"),
        ("show", _show, "print the entry 'enable' would write, without writing it"),
    ):
        cmd = sub.add_parser(name, help=text, description=text)
        cmd.add_argument(
            "--method",
            choices=autostart.METHODS,
            help="default: xdg on Linux, launchd on macOS, registry on Windows",
        )
        if name != "show":
            cmd.add_argument("--json", action="store_true", help="machine-readable output")
        cmd.set_defaults(func=func)


def _register_shortcut(subparsers: Any) -> None:
    s = subparsers.add_parser(
        "shortcut",
        help="add or remove the application-menu launcher",
        description=(
            "Add vms-tray to the application menu (Linux: .desktop entry; Windows: Start menu; "
            "macOS: ~/Applications/vms-tray.app). Opening it starts the tray or brings it forward."
        ),
    )
    ssub = s.add_subparsers(dest="shortcut_command", metavar="ACTION")
    ssub.required = True
    for name, func, text, desktop_help in (
        (
            "install",
            _shortcut_install,
            "add the launcher (and the icon it uses)",
            "also put a copy on the desktop",
        ),
        (
            "remove",
            _shortcut_remove,
            "remove exactly what install added",
            "remove only the copy on the desktop",
        ),
        ("status", _shortcut_status, "list the launcher files that are installed", None),
    ):
        cmd = ssub.add_parser(name, help=text, description=text)
        if desktop_help:
            cmd.add_argument("--desktop", action="store_true", help=desktop_help)
        cmd.add_argument("--json", action="store_true", help="machine-readable output")
        cmd.set_defaults(func=func)


def _backend(args: argparse.Namespace, check: bool = True) -> AutostartBackend:
    from vms_tray import autostart
    from vms_tray.autostart.base import System

    system = System.current()
    if args.method:
        return autostart.get_backend(args.method, system, check=check)
    return autostart.default_backend(system)


def _others_installed(backend: AutostartBackend) -> list[AutostartStatus]:
    from vms_tray import autostart

    others = [b for b in autostart.all_backends(backend.system) if b.name != backend.name]
    return [s for s in (b.status() for b in others if b.viable) if s.installed]


def _describe(status: AutostartStatus) -> list[str]:
    if not status.installed:
        lines = [f"{status.method}: not enabled ({status.location})"]
    else:
        state = "enabled" if status.active is not False else "installed but switched off"
        lines = [f"{status.method}: {state}  {status.location}"]
        if status.command:
            lines.append(f"  command: {shlex.join(status.command)}")
        if status.stale:
            lines.append(
                f"  broken: {status.executable} no longer exists "
                "(moved or upgraded install); run 'vms-tray autostart enable' to fix it"
            )
        elif status.up_to_date is False:
            lines.append("  outdated: differs from this installation; 'enable' rewrites it")
    lines.extend(f"  note: {note}" for note in status.notes)
    return lines


def _print(status: AutostartStatus, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    if as_json:
        print(json.dumps({**status.as_dict(), **(extra or {})}, indent=2))
    else:
        print("\n".join(_describe(status)))


def _warn_duplicates(backend: AutostartBackend) -> None:
    from vms_tray.text import command_line

    for other in _others_installed(backend):
        print(
            f"vms-tray: warning: autostart is also enabled with {other.method} "
            f"({other.location}), so vms-tray would start twice; to remove that one, run: "
            f"{command_line('autostart', 'disable', '--method', other.method)}",
            file=sys.stderr,
        )


def _enable(args: argparse.Namespace) -> int:
    backend = _backend(args)
    status = backend.enable()
    _print(status, args.json)
    _warn_duplicates(backend)
    return 0


def _refuse_if_forced(backend: AutostartBackend) -> None:
    """The administrator's force_autostart: start at login stays on (only a duplicate entry of
    another method may go)."""
    from vms_tray import autostart
    from vms_tray.autostart.forced import disable_refused, refusal
    from vms_tray.connections.policy import load_policy

    policy = load_policy()
    if policy.problem:
        print(f"vms-tray: warning: {policy.problem}", file=sys.stderr)
    if not policy.force_autostart:
        return
    if disable_refused(backend, autostart.default_backend(backend.system)):
        raise autostart.AutostartError(refusal(str(policy.path)))


def _disable(args: argparse.Namespace) -> int:
    backend = _backend(args)
    _refuse_if_forced(backend)
    removed = backend.disable()
    if args.json:
        print(
            json.dumps({"method": backend.name, "location": backend.location, "removed": removed})
        )
    elif removed:
        print(f"{backend.name}: removed {backend.location}")
    else:
        print(f"{backend.name}: nothing to remove ({backend.location})")
    return 0


def _status(args: argparse.Namespace) -> int:
    backend = _backend(args)
    statuses = [backend.status()]
    if not args.method:
        statuses += _others_installed(backend)
    if args.json:
        payload = [s.as_dict() for s in statuses]
        print(json.dumps({"default": backend.name, "methods": payload}, indent=2))
    else:
        for s in statuses:
            print("\n".join(_describe(s)))
    return 0


def _show(args: argparse.Namespace) -> int:
    backend = _backend(args, check=False)
    print(f"# {backend.location}", file=sys.stderr)
    sys.stdout.write(backend.render())
    return 0


def _shortcut_install(args: argparse.Namespace) -> int:
    from vms_tray.autostart.shortcut import launcher_for

    launcher = launcher_for()
    written = launcher.install(desktop=args.desktop)
    if args.json:
        print(json.dumps({"launcher": launcher.name, "installed": [str(p) for p in written]}))
    else:
        for path in written:
            print(f"installed {path}")
    return 0


def _shortcut_remove(args: argparse.Namespace) -> int:
    from vms_tray.autostart.shortcut import launcher_for

    launcher = launcher_for()
    removed = launcher.remove(desktop=args.desktop)
    if args.json:
        print(json.dumps({"launcher": launcher.name, "removed": [str(p) for p in removed]}))
    elif removed:
        for path in removed:
            print(f"removed {path}")
    else:
        print("nothing to remove")
    return 0


def _shortcut_status(args: argparse.Namespace) -> int:
    from vms_tray.autostart.shortcut import launcher_for

    launcher = launcher_for()
    present = launcher.installed()
    if args.json:
        print(json.dumps({"launcher": launcher.name, "installed": [str(p) for p in present]}))
    elif present:
        for path in present:
            print(f"installed {path}")
    else:
        print("no launcher installed")
    return 0
