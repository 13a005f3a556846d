"""``vms-tray password set|forget NAME``: a server's password in the system keyring.

A password never comes from the command line (it would show in ``ps`` and shell history): it is
read from stdin when stdin is not a terminal (one trailing newline is dropped), otherwise typed
twice without echo.

The server list, the policy and the keyring are imported by the commands that read them, not at
the top: ``--help`` and every other command import this module (CLI start-up, issue 13).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

MAX_PASSWORD = 4096  # a keyring entry, not a file: anything longer is a mistake (e.g. wrong pipe)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "password",
        help="store or forget a server's password in the system keyring",
        description="Passwords are kept only in the system keyring, never in vms-tray's files.",
    )
    sub = p.add_subparsers(dest="password_command", metavar="ACTION")
    sub.required = True
    cmd = sub.add_parser(
        "set",
        help="store the password (typed, or read from stdin when piped)",
        description=(
            "Store the password of server NAME. Typed twice without echo on a terminal; "
            "read from stdin when it is piped (one trailing newline is dropped)."
        ),
    )
    cmd.add_argument("name", metavar="NAME")
    cmd.set_defaults(func=_set)
    cmd = sub.add_parser("forget", help="remove the stored password")
    cmd.add_argument("name", metavar="NAME")
    cmd.set_defaults(func=_forget)


def read_password(prompt: str) -> str:
    """The password from piped stdin, or typed twice on the terminal; never empty."""
    from vms_tray.errors import InvalidInput

    if not sys.stdin.isatty():
        text = sys.stdin.read(MAX_PASSWORD + 2)
        if text.endswith("\r\n"):
            text = text[:-2]
        elif text.endswith("\n"):
            text = text[:-1]
        if len(text) > MAX_PASSWORD:
            raise InvalidInput(f"the password on stdin is longer than {MAX_PASSWORD} characters")
    else:
        text = getpass.getpass(prompt)
        if text and getpass.getpass("Again, to confirm: ") != text:
            raise InvalidInput("the two passwords differ: nothing was stored, try again")
    if not text:
        raise InvalidInput("the password is empty: nothing was stored")
    return text


def _set(args: argparse.Namespace) -> int:
    # Imported here: keyring and its backend load only in the commands that use the keyring
    # (a measured start-up cost, issue 13: `--help` and `status` never do).
    from vms_tray.connections.managed import visible
    from vms_tray.connections.policy import load_policy
    from vms_tray.credentials import Credentials, secure_backend
    from vms_tray.errors import InvalidInput

    policy = load_policy()
    if policy.forbid_remember_password:
        raise InvalidInput(
            "the administrator forbids storing passwords (forbid_remember_password in "
            f"{policy.path})"
        )
    connection = visible().list.get(args.name)
    # Before prompting: no point typing a password that cannot be kept.
    backend = secure_backend()
    password = read_password(f"Password for {connection.login} on {connection.name}: ")
    Credentials(backend).set(connection.name, password)
    print(f"Stored the password for {connection.name} in the system keyring")
    return 0


def _forget(args: argparse.Namespace) -> int:
    from vms_tray.connections.managed import visible

    # Works for names no longer in the list too: cleans up an entry left behind.
    known = visible().list.find(args.name)
    name = known.name if known else args.name.strip()
    from vms_tray.credentials import Credentials, secure_backend  # lazy: see _set

    if Credentials(secure_backend()).forget(name):
        print(f"Forgot the password for {name}")
    else:
        print(f"No password was stored for {name}")
    return 0
