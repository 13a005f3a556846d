"""The ``vms-tray`` command line: parsing and wiring only, no logic.

Each command group lives in its own module with ``register(subparsers)``; a handler takes the
parsed ``argparse.Namespace`` and returns an exit code. Exit codes: 0 success, 1 failure (one line
on stderr, no traceback unless ``--debug``), 2 usage error (argparse's own).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from vms_tray import __version__, i18n
from vms_tray.cli import autostart, connections, daemon, password, policy, refserver
from vms_tray.errors import VmsTrayError
from vms_tray.text import printable

# Command modules, in the order they appear in --help. Each has register(subparsers).
COMMAND_MODULES = (connections, password, policy, daemon, refserver, autostart)

log = logging.getLogger(__name__)

EPILOG = """\
environment:
  https_proxy, all_proxy, no_proxy   an HTTP proxy to reach servers through, and the hosts
                                     reached directly (read like curl)
  VMS_TRAY_PROFILE=DIR               keep config, logs and the control socket in DIR
  VMS_TRAY_LANG=en|ru                the language of the tray, dialogs and notifications
  PYSTRAY_BACKEND=appindicator|gtk|xorg   the tray backend (chosen by itself on Linux)

exit codes: 0 success, 1 failure (one line on stderr; --debug for details), 2 usage error
"""


def build_parser() -> argparse.ArgumentParser:
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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
