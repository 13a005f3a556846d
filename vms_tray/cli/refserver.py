"""``vms-tray server``: run the reference server of protocol v1 and manage its accounts.

The reference server (Starlette, uvicorn, cryptography) is imported inside its own commands, so
no other command pays for it at start-up; so are logging and our errors (about 20 ms that
``--help`` and every other command paid when they were at the top: issue 13).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vms_tray.errors import InvalidInput, VmsTrayError
    from vms_tray.refserver.aipix.runner import AipixHandle
    from vms_tray.refserver.clock import ServerClock
    from vms_tray.refserver.runner import ServerHandle, ServerOptions

DEFAULT_PORT = 8443


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if number <= 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return number


def _non_negative(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 (never) or more seconds")
    return number


def _non_negative_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 (no limit) or more")
    return number


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "server",
        help="run the reference server (protocol v1) and manage its accounts",
        description="The reference server of protocol v1: HTTPS, SQLite, captcha, session limits.",
    )
    sub = parser.add_subparsers(dest="server_command", metavar="ACTION")
    sub.required = True

    run = sub.add_parser("run", help="serve HTTPS until interrupted")
    run.add_argument(
        "--data", required=True, type=Path, metavar="DIR", help="data directory (database, cert)"
    )
    run.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    run.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT}); 0 picks a free one"
    )
    run.add_argument(
        "--tls-cert",
        type=Path,
        metavar="FILE",
        help="certificate PEM (default: self-signed in DIR)",
    )
    run.add_argument("--tls-key", type=Path, metavar="FILE", help="private key PEM of --tls-cert")
    run.add_argument(
        "--captcha",
        choices=("never", "always", "after-failures"),
        default="after-failures",
        help=(
            "when sign-in needs a captcha (after-failures: after 2 wrong passwords for a login "
            "from one address, until that login signs in there)"
        ),
    )
    run.add_argument(
        "--max-sessions",
        type=_non_negative_int,
        default=2,
        metavar="N",
        help="default concurrent sessions per account (2; 0: no limit; see 'user limit')",
    )
    run.add_argument(
        "--idle-timeout",
        type=_non_negative,
        default=900.0,
        metavar="S",
        help="seconds without activity before a session ends by itself (900; 0: never)",
    )
    run.add_argument(
        "--access-ttl", type=_positive, default=300.0, metavar="S", help="access token life (300)"
    )
    run.add_argument(
        "--refresh-ttl",
        type=_positive,
        default=43200.0,
        metavar="S",
        help="refresh token life (43200); a session whose refresh token lapses ends",
    )
    run.add_argument(
        "--seat-hold",
        type=_positive,
        default=60.0,
        metavar="S",
        help="seconds a freed seat is held for the head of the queue (60; protocol v1.1)",
    )
    run.add_argument(
        "--handover-grace",
        type=_positive,
        default=60.0,
        metavar="S",
        help="seconds a session asked to hand over has before it ends (60; protocol v1.1)",
    )
    run.add_argument("--name", default="vms-tray reference server", help="name shown to clients")
    run.add_argument(
        "--maintenance-file",
        type=Path,
        metavar="FILE",
        help="while FILE exists, API calls answer 503 server-busy; FILE may hold Retry-After s",
    )
    run.add_argument(
        "--max-pending-sign-ins",
        type=_non_negative_int,
        default=128,
        metavar="N",
        help="sign-ins waiting beyond N answer 503 server-busy (128)",
    )
    run.add_argument("--access-log", action="store_true", help="log each request (paths only)")
    run.add_argument(
        "--flavor",
        choices=("native", "aipix"),
        default="native",
        help=(
            "the API to speak: native (protocol v1) or aipix (a simulator of the AIPIX VMS "
            "Client API; --captcha other than never turns its captcha on, --max-sessions is its "
            "sessions_limit; the token options do not apply)"
        ),
    )
    run.add_argument(
        "--aipix",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an AIPIX simulator setting or reading (see docs/aipix.md); repeatable",
    )
    # Test hooks, deliberately undocumented: time travel, readable captchas, and a server that
    # lists fewer v1.1 features (comma-separated; without 'events' clients fall back to polling:
    # bench/events_bench.py compares the two).
    run.add_argument("--clock-file", type=Path, help=argparse.SUPPRESS)
    run.add_argument("--captcha-log", type=Path, help=argparse.SUPPRESS)
    run.add_argument("--features", metavar="A,B", help=argparse.SUPPRESS)
    run.set_defaults(func=cmd_run)

    user = sub.add_parser("user", help="manage accounts")
    usub = user.add_subparsers(dest="user_command", metavar="ACTION")
    usub.required = True

    add = usub.add_parser("add", help="add an account (password read from stdin)")
    add.add_argument("login")
    add.add_argument("--data", required=True, type=Path, metavar="DIR")
    add.add_argument(
        "--max-sessions",
        type=_non_negative_int,
        metavar="N",
        help="this account's limit (default: the server's; 0: no limit)",
    )
    add.set_defaults(func=cmd_user_add)

    lst = usub.add_parser("list", help="list accounts and their open sessions")
    lst.add_argument("--data", required=True, type=Path, metavar="DIR")
    lst.add_argument("--json", action="store_true", help="machine-readable output")
    lst.set_defaults(func=cmd_user_list)

    rm = usub.add_parser("remove", help="remove an account and end its sessions")
    rm.add_argument("login")
    rm.add_argument("--data", required=True, type=Path, metavar="DIR")
    rm.set_defaults(func=cmd_user_remove)

    pw = usub.add_parser("passwd", help="set an account's password (read from stdin)")
    pw.add_argument("login")
    pw.add_argument("--data", required=True, type=Path, metavar="DIR")
    pw.set_defaults(func=cmd_user_passwd)

    lim = usub.add_parser("limit", help="set an account's session limit")
    lim.add_argument("login")
    lim.add_argument("--data", required=True, type=Path, metavar="DIR")
    group = lim.add_mutually_exclusive_group(required=True)
    group.add_argument("--max-sessions", type=_non_negative_int, metavar="N", help="0: no limit")
    group.add_argument("--default", action="store_true", help="use the server's default")
    lim.set_defaults(func=cmd_user_limit)


def read_password(prompt: str = "Password: ") -> str:
    """From the terminal (asked twice) or, when piped, the first line of stdin."""
    import getpass

    from vms_tray.errors import InvalidInput

    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Again: ") != first:
            raise InvalidInput("the two passwords differ; try again")
        password = first
    else:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not password:
        raise InvalidInput("the password is empty; give one on stdin")
    if len(password) > 1024:
        raise InvalidInput("the password is longer than 1024 characters")
    return password


def _valid_login(login: str) -> str:
    from vms_tray.errors import InvalidInput

    if not 1 <= len(login) <= 128 or any(ch.isspace() or not ch.isprintable() for ch in login):
        raise InvalidInput("a login is 1 to 128 printable characters without spaces")
    return login


def cmd_user_add(args: argparse.Namespace) -> int:
    from vms_tray.errors import InvalidInput
    from vms_tray.refserver.runner import open_store
    from vms_tray.refserver.tokens import hash_password

    login = _valid_login(args.login)
    store = open_store(args.data)
    try:
        if store.get_user(login) is not None:
            raise InvalidInput(f"user {login!r} already exists (use 'user passwd' to change it)")
        password = read_password()
        store.add_user(login, hash_password(password), args.max_sessions, time.time())
    finally:
        store.close()
    print(f"added user {login}")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    from vms_tray.refserver.runner import open_store

    store = open_store(args.data)
    try:
        users = [
            {
                "login": u.login,
                "max_sessions": u.max_sessions,
                "active": store.count_active(u.login),
            }
            for u in store.list_users()
        ]
    finally:
        store.close()
    if args.json:
        print(json.dumps(users, indent=2))
    else:
        for u in users:
            limit = "default" if u["max_sessions"] is None else (u["max_sessions"] or "no limit")
            print(f"{u['login']}\tmax sessions: {limit}\topen sessions: {u['active']}")
    return 0


def _unknown(login: str) -> VmsTrayError:
    from vms_tray.errors import InvalidInput

    return InvalidInput(f"no user {login!r} (see 'vms-tray server user list --data DIR')")


def cmd_user_remove(args: argparse.Namespace) -> int:
    from vms_tray.refserver.runner import open_store

    store = open_store(args.data)
    try:
        if not store.remove_user(args.login):
            raise _unknown(args.login)
    finally:
        store.close()
    print(f"removed user {args.login}")
    return 0


def cmd_user_passwd(args: argparse.Namespace) -> int:
    from vms_tray.refserver.runner import open_store
    from vms_tray.refserver.tokens import hash_password

    store = open_store(args.data)
    try:
        if store.get_user(args.login) is None:
            raise _unknown(args.login)
        store.set_password(args.login, hash_password(read_password()))
    finally:
        store.close()
    print(f"changed the password of {args.login}")
    return 0


def cmd_user_limit(args: argparse.Namespace) -> int:
    from vms_tray.refserver.runner import open_store

    store = open_store(args.data)
    try:
        limit = None if args.default else args.max_sessions
        if not store.set_max_sessions(args.login, limit):
            raise _unknown(args.login)
    finally:
        store.close()
    shown = "the server's default" if limit is None else (limit or "no limit")
    print(f"session limit of {args.login}: {shown}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import logging

    from vms_tray.errors import InvalidInput
    from vms_tray.refserver.clock import FileOffsetClock, SystemServerClock
    from vms_tray.refserver.config import FEATURES, ServerConfig
    from vms_tray.refserver.runner import ServerHandle, ServerOptions

    if (args.tls_cert is None) != (args.tls_key is None):
        raise InvalidInput("give both --tls-cert and --tls-key, or neither")
    if not 0 <= args.port <= 65535:
        raise InvalidInput("--port must be 0 to 65535")
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    clock: ServerClock = (
        FileOffsetClock(args.clock_file) if args.clock_file else SystemServerClock()
    )
    log = logging.getLogger("vms_tray.refserver")
    if args.clock_file:
        log.warning("test hook: the clock is offset by the seconds in %s", args.clock_file)
    if args.captcha_log:
        log.warning("test hook: captcha answers are written to %s", args.captcha_log)
    features = FEATURES
    if args.features is not None:
        features = tuple(name for name in args.features.split(",") if name)  # "": none
        unknown = sorted(set(features) - set(FEATURES))
        if unknown:
            raise InvalidInput(
                f"--features: unknown {', '.join(unknown)} (known: {', '.join(FEATURES)})"
            )
        log.warning("test hook: protocol v1.1 features limited to %s", args.features or "none")
    try:
        config = ServerConfig(
            name=args.name,
            captcha=args.captcha,
            max_sessions=args.max_sessions or None,
            idle_timeout=args.idle_timeout if args.idle_timeout > 0 else None,
            access_ttl=args.access_ttl,
            refresh_ttl=args.refresh_ttl,
            seat_hold=args.seat_hold,
            handover_grace=args.handover_grace,
            features=features,
        )
    except ValueError as exc:
        raise InvalidInput(f"{exc} (see 'vms-tray server run --help')") from None
    options = ServerOptions(
        host=args.host,
        port=args.port,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        maintenance_file=args.maintenance_file,
        captcha_log=args.captcha_log,
        max_pending_sign_ins=args.max_pending_sign_ins,
        access_log=args.access_log,
    )
    if args.flavor == "aipix":
        return _run_aipix(args, clock, options)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            handle = ServerHandle.start(args.data, config=config, clock=clock, options=options)
        except OSError as exc:
            raise _cannot_listen(args, exc) from None
        _serve_until_stopped(handle, stop)
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
    return 0


def _cannot_listen(args: argparse.Namespace, exc: OSError) -> InvalidInput:
    from vms_tray.errors import InvalidInput

    return InvalidInput(
        f"cannot listen on {args.host} port {args.port}: {exc.strerror or exc} "
        "(choose another --host or --port)"
    )


def _serve_until_stopped(handle: ServerHandle | AipixHandle, stop: threading.Event) -> None:
    print(f"listening {handle.url}", flush=True)
    print(f"certificate sha256 {handle.fingerprint}", flush=True)
    try:
        while not stop.wait(0.5):
            if not handle.running:
                from vms_tray.errors import VmsTrayError

                raise VmsTrayError("the server stopped unexpectedly (see the log above)")
    finally:
        handle.stop()


def _run_aipix(args: argparse.Namespace, clock: ServerClock, options: ServerOptions) -> int:
    """``server run --flavor aipix``: the AIPIX simulator on the same data directory."""
    from vms_tray.refserver.aipix.config import AipixConfig, parse_pairs
    from vms_tray.refserver.aipix.runner import AipixHandle

    base = AipixConfig(captcha=args.captcha != "never", sessions_limit=args.max_sessions or None)
    config = parse_pairs(args.aipix, base)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            handle = AipixHandle(args.data, config=config, clock=clock, options=options)
        except OSError as exc:
            raise _cannot_listen(args, exc) from None
        _serve_until_stopped(handle, stop)
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
    return 0
