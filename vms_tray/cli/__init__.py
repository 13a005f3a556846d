"""The ``vms-tray`` command line: parsing and wiring only, no logic.

Each command group lives in its own module with ``register(subparsers)``; a handler takes the
parsed ``argparse.Namespace`` and returns an exit code. Exit codes: 0 success, 1 failure (one line
on stderr, no traceback unless ``--debug``), 2 usage error (argparse's own).

Start-up (issue 13: every command within 3x a bare ``python -c pass``): a command line that
names its command imports only that command's module (``COMMANDS``); ``--help`` builds every
command's parser, so the command modules import at their top only what registering needs; what
a command runs is imported inside it. A parser whose arguments need a module that is slow to
import (the autostart methods, the server kinds) is filled by ``CommandParser.fill`` only when
its command is chosen.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from vms_tray import __version__

# Command modules (vms_tray.cli.<name>), in the order they appear in --help, and the commands
# each registers with register(subparsers). A command line that names its command imports only
# that command's module: the seven together are ~2,000 lines to unmarshal, a third of what
# `vms-tray servers list` spent before it ran (issue 13). tests/unit/test_cli.py checks the
# names against what each module registers.
COMMANDS: dict[str, tuple[str, ...]] = {
    "connections": ("servers",),
    "password": ("password",),
    "policy": ("policy",),
    "daemon": (
        "run",
        "status",
        "signin",
        "signout",
        "switch",
        "quit",
        "sessions",
        "wait",
        "captcha",
        "demo",
    ),
    "refserver": ("server",),
    "autostart": ("autostart", "shortcut"),
    "launcher": ("desktop-launcher",),
}
_MODULE_OF = {command: module for module, commands in COMMANDS.items() for command in commands}


def command_modules(argv: Sequence[str] | None = None) -> list[ModuleType]:
    """The command modules ``argv`` needs: the one of its command, or all of them (no command,
    an unknown one, or --help/--version before it, which list every command)."""
    names = list(COMMANDS)
    args = list(sys.argv[1:] if argv is None else argv)
    while args and args[0] == "--debug":
        args.pop(0)
    if args and args[0] in _MODULE_OF:
        names = [_MODULE_OF[args[0]]]
    return [importlib.import_module(f"vms_tray.cli.{name}") for name in names]


EPILOG = """\
environment:
  https_proxy, all_proxy, no_proxy   an HTTP proxy to reach servers through, and the hosts
                                     reached directly (read like curl)
  VMS_TRAY_PROFILE=DIR               keep config, logs and the control socket in DIR
  VMS_TRAY_LANG=en|ru                the language of the tray, dialogs and notifications
  PYSTRAY_BACKEND=appindicator|gtk|xorg   the tray backend (chosen by itself on Linux)

exit codes: 0 success, 1 failure (one line on stderr; --debug for details), 2 usage error
"""


class CommandParser(argparse.ArgumentParser):
    """A command's parser. ``fill``, when a command sets it, adds the command's arguments the
    first time the command is parsed, so ``vms-tray --help`` and the other commands do not
    import what only that command's arguments need."""

    fill: Callable[[argparse.ArgumentParser], None] | None = None

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        fill, self.fill = self.fill, None
        if fill is not None:
            fill(self)
        return super().parse_known_args(args, namespace)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ``argv`` (default sys.argv[1:]): with only its command's module, or with
    every command when ``argv`` does not name one (see command_modules)."""
    parser = argparse.ArgumentParser(
        prog="vms-tray",
        description="A system-tray companion for video-surveillance (VMS) servers.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"vms-tray {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="verbose logging and tracebacks on errors"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CommandParser)
    sub.required = True
    for module in command_modules(argv):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    # Imported once the arguments are parsed: --help and --version exit before (start-up).
    import logging

    from vms_tray import i18n
    from vms_tray.errors import VmsTrayError
    from vms_tray.text import printable

    log = logging.getLogger(__name__)
    if args.debug:
        # Imported only here: app.logs costs ~30 ms of start-up (logging.handlers, platformdirs)
        # that a command without --debug does not need. Redacted like the log file; 'run' swaps
        # it for its own, so no line shows twice.
        from vms_tray.app import logs

        logs.console_handler()
        logging.getLogger().setLevel(logging.DEBUG)
    if not getattr(args, "localised", False):
        # The command line speaks English throughout; phrases shared with the tray
        # (e.g. "2 of 3 sessions in use") must not arrive translated in the middle of it.
        i18n.install("en")
    try:
        code: int = args.func(args)
    except VmsTrayError as exc:
        if args.debug:
            log.exception("failed")
        # One line, and a server's words in it (a problem's detail) cannot drive the terminal.
        print(f"vms-tray: {printable(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("vms-tray: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        # Only the class name: a foreign message could carry a secret.
        print(
            f"vms-tray: unexpected {type(exc).__name__} (run again with --debug for details)",
            file=sys.stderr,
        )
        return 1
    return code


def gui_main() -> int:
    """Entry point without a console window (Windows): starts the tray."""
    return main(["run"])
