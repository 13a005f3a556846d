"""``vms-tray run`` and the commands that drive a running daemon over its control socket.

The daemon, the tray and the demo are imported inside the commands that start them: they load
httpx, APScheduler and GTK, which ``status`` and the other commands never need (CLI start-up).
So are the control socket, the translations and the wording each command uses: ``--help`` and
every other command import this module (issue 13). Longer than 500 lines because every command
that talks to the running daemon is here, each a short function over one control request; the
sessions commands (list, end, handover, wait) are the next to move to a module of their own.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("run", help="start vms-tray (tray icon, or --headless)")
    p.add_argument("--headless", action="store_true", help="no tray icon: notices go to stderr")
    p.add_argument("--server", metavar="NAME", help="sign in to this server (default: last used)")
    _debug_option(p)
    # The daemon and its tray speak the user's language; every other command prints English.
    p.set_defaults(func=cmd_run, localised=True)

    p = subparsers.add_parser("status", help="show the session state of the running vms-tray")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_status)

    p = subparsers.add_parser("signin", help="sign in (asks for the password if none is stored)")
    p.add_argument("--server", metavar="NAME", help="server to sign in to (default: current)")
    p.add_argument(
        "--remember", action="store_true", help="store the typed password in the keyring"
    )
    p.add_argument(
        "--ask-password",
        action="store_true",
        help="type the password even if one is stored (e.g. it changed)",
    )
    p.set_defaults(func=cmd_signin)

    p = subparsers.add_parser(
        "signout",
        help="sign out (frees the session seat where the server can; ZoneMinder cannot)",
    )
    p.set_defaults(func=cmd_signout)

    p = subparsers.add_parser(
        "switch",
        help=(
            "sign in to another server (the current session ends only once the new sign-in "
            "can start; asks for a password when none is stored)"
        ),
    )
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_switch)

    p = subparsers.add_parser("quit", help="sign out and stop the running vms-tray")
    p.set_defaults(func=cmd_quit)

    p = subparsers.add_parser("sessions", help="list the account's sessions, or end one")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_sessions)
    ssub = p.add_subparsers(dest="sessions_command", metavar="ACTION", parser_class=IdParser)
    end = ssub.add_parser(
        "end",
        help="end another session (frees its seat)",
        epilog=(
            "An ID may begin with '-'; 'vms-tray sessions end -- ID' also works. "
            "Your own session is ended with 'vms-tray signout'."
        ),
    )
    end.add_argument("id", metavar="ID", help="a session id from 'vms-tray sessions'")
    end.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    end.set_defaults(func=cmd_sessions_end)
    ask = ssub.add_parser(
        "handover",
        help="at the session limit: ask a session to hand its seat over to you",
        description=(
            "Asks the holder of session ID to hand its seat over (servers of vms-tray protocol "
            "v1.1): their vms-tray warns them and the server ends that session after a grace "
            "period unless they release it sooner; then vms-tray signs you in by itself."
        ),
    )
    ask.add_argument("id", metavar="ID", help="a session id from 'vms-tray sessions'")
    ask.set_defaults(func=cmd_sessions_handover)

    p = subparsers.add_parser("wait", help="at the session limit: sign in when a seat frees")
    p.add_argument(
        "--timeout",
        type=float,
        default=0,
        metavar="SECONDS",
        help="follow until signed in, at most this long (default: return at once)",
    )
    p.set_defaults(func=cmd_wait)

    p = subparsers.add_parser("captcha", help="complete a captcha sign-in without a desktop")
    csub = p.add_subparsers(dest="captcha_command", metavar="ACTION")
    csub.required = True
    save = csub.add_parser("save", help="write the captcha image (PNG) to FILE")
    save.add_argument("file", type=Path, metavar="FILE")
    save.set_defaults(func=cmd_captcha_save)
    ref = csub.add_parser("refresh", help="ask the server for a new image")
    ref.set_defaults(func=cmd_captcha_refresh)
    ans = csub.add_parser(
        "answer",
        help="send the characters shown ('-': read them from stdin)",
        description=(
            "Send the characters the captcha shows. Give '-' to type them at a prompt or pipe "
            "them in on stdin (vms-tray captcha answer -): a CODE on the command line shows in "
            "'ps' and the shell history while it is valid."
        ),
    )
    ans.add_argument("code", metavar="CODE", help="'-' (read from stdin), or the characters")
    ans.set_defaults(func=cmd_captcha_answer)

    p = subparsers.add_parser(
        "demo", help="try vms-tray against a local demo server (your own servers are untouched)"
    )
    p.add_argument("--headless", action="store_true", help="no tray icon, even with a display")
    p.add_argument(
        "--flavor",
        choices=("native", "aipix"),
        default="native",
        help="the demo server's API: vms-tray's own (native) or the AIPIX Client API (aipix)",
    )
    _debug_option(p)
    p.set_defaults(func=cmd_demo, localised=True)


class IdParser(argparse.ArgumentParser):
    """Session ids are ``token_urlsafe`` strings, so one may begin with '-' ("-F7nm4lzF--iNz1F").

    Plain argparse takes such an id for an unknown option. Here only this parser's own options
    ("--yes", "-h") are options; any other word that begins with '-' is the ID. "--" still works.
    """

    def _parse_optional(self, arg_string: str) -> Any:
        if (
            len(arg_string) > 1
            and arg_string.startswith("-")
            and arg_string != "--"
            and arg_string.partition("=")[0] not in self._option_string_actions
        ):
            return None  # a positional: the ID
        return super()._parse_optional(arg_string)

    def error(self, message: str) -> NoReturn:
        if "ID" in message or "unrecognized" in message:
            message += " (an ID that begins with '-' can also follow '--': sessions end -- ID)"
        super().error(message)


def _debug_option(p: argparse.ArgumentParser) -> None:
    # Also accepted after the command; SUPPRESS keeps the global --debug when absent here.
    p.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="verbose log file"
    )


def _request(cmd: str, **params: Any) -> Any:
    """One request to the running daemon (:func:`vms_tray.control.request`)."""
    from vms_tray import control

    return control.request(cmd, **params)


# --- run ---------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from vms_tray.app.runner import run

    return run(args.server, args.headless, args.debug)


def cmd_demo(args: argparse.Namespace) -> int:
    from vms_tray.app.demo import run_demo

    return run_demo(headless=args.headless, debug=args.debug, flavor=args.flavor)


# --- status ------------------------------------------------------------------------------------


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds}s"


def describe(status: dict[str, Any]) -> list[str]:
    from vms_tray.text import limit_as_of, printable, seats

    lines = [f"state: {status['state']}"]
    if status.get("server"):
        lines.append(f"server: {status['server']} (login {status.get('login') or '?'})")
    if status.get("sessions_in_use") is not None:
        in_use, maximum = status["sessions_in_use"], status.get("max_sessions")
        if status.get("limit_as_of") and maximum is not None:
            lines.append(f"sessions: {limit_as_of(in_use, maximum, status['limit_as_of'])}")
        else:
            lines.append(f"sessions: {seats(in_use, maximum)}")
    if status.get("expires_in") is not None:
        lines.append(f"token renews before it expires in {_duration(status['expires_in'])}")
    if status.get("waiting_for_seat") and status.get("handover_asked_until"):
        who = status.get("handover_asked_of") or "another device"
        lines.append(
            f"waiting for {who} to hand over its seat: the server ends that session at "
            f"{status['handover_asked_until']} at the latest, then signs you in"
        )
    elif status.get("waiting_for_seat"):
        place = status.get("queue_position")
        where = f", number {place} in the server's queue" if isinstance(place, int) else ""
        lines.append(f"waiting for a free seat{where} (signs in by itself when one frees)")
    if status.get("handover_deadline"):
        who = status.get("handover_by") or "another device"
        lines.append(
            f"{who} needs this seat: the server ends this session at "
            f"{status['handover_deadline']} ('vms-tray signout' releases it now)"
        )
    if status.get("ended_by"):
        lines.append(f"ended from: {status['ended_by']}")
    if status.get("last_error"):
        lines.append(f"last error: {status['last_error']}")
    # Server names, errors and the device that ended a session may carry a server's words.
    return [printable(line) for line in lines]


def cmd_status(args: argparse.Namespace) -> int:
    status = _request("status")
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        print("\n".join(describe(status)))
    return 0


def signed_out_text(status: dict[str, Any]) -> str:
    """What signing out did on the server: it depends on the server kind."""
    server = status.get("server") or "the server"
    if status.get("sign_out_frees_seat", True):
        return f"Signed out of {server}; its session seat is free."
    return (
        f"Signed out of {server}. Nothing is freed on the server: it cannot end a session, so "
        "the token stays valid until it expires."
    )


def cmd_signout(args: argparse.Namespace) -> int:
    before = _request("status")
    _request("signout")
    if before.get("state") in ("signed_out", "ended", "error"):
        print("Not signed in: nothing to sign out of.")
    else:
        print(signed_out_text(before))
    return 0


def cmd_quit(args: argparse.Namespace) -> int:
    from vms_tray.errors import ControlError

    _request("quit")
    # Follow until it is gone, so a script can rely on the seat being free afterwards.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            _request("ping", timeout=1)
        except (ControlError, OSError):
            print("vms-tray signed out and stopped.")
            return 0
        time.sleep(0.1)
    print("vms-tray was asked to quit (it is still stopping).")
    return 0


# --- sign-in -----------------------------------------------------------------------------------


def _read_secret(prompt: str) -> str:
    import getpass

    from vms_tray.errors import InvalidInput

    # A script pipes it in on stdin: never from argv.
    tty = sys.stdin.isatty()
    value = getpass.getpass(prompt) if tty else sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise InvalidInput("no password given: nothing was sent")
    return value


def _outcome(status: dict[str, Any]) -> int:
    """Say how a sign-in ended, with the next step; exit code 1 only for errors."""
    from vms_tray.errors import ControlError
    from vms_tray.text import printable

    state = status["state"]
    server = status.get("server") or "the server"
    if state == "signed_in":
        from vms_tray.text import seats

        extra = ""
        if status.get("sessions_in_use") is not None:
            extra = f" ({seats(status['sessions_in_use'], status.get('max_sessions'))})"
        print(f"Signed in to {server} as {status.get('login')}{extra}.")
        return 0
    if state == "captcha_required":
        print(
            f"{server} asks for a captcha: run 'vms-tray captcha save FILE', look at it, "
            "then 'vms-tray captcha answer -' and type the characters."
        )
        if status.get("captcha_reason") in ("invalid", "expired"):
            print(printable(f"(previous answer: {status['captcha_reason']})"))
        return 0
    if state == "limit_reached":
        print(f"No free session on {server}: all seats are in use.")
        print("End one with 'vms-tray sessions end ID' (see 'vms-tray sessions'),")
        print("or let vms-tray sign in when a seat frees: 'vms-tray wait'.")
        return 0
    if state == "reconnecting":
        # Our network messages already end with "vms-tray will retry": say it once.
        error = str(status.get("last_error") or "")
        if not error:
            error = f"{server} does not answer; vms-tray keeps trying"
        print(printable(error[:1].upper() + error[1:] + "."))
        return 1
    raise ControlError(f"sign-in to {server} failed: {status.get('last_error') or state}")


def cmd_signin(args: argparse.Namespace) -> int:
    reply: dict[str, Any] = {"password_required": True}
    if not args.ask_password:
        reply = _request("signin", server=args.server, timeout=70)
    if reply.get("password_required"):
        status = _request("status")
        name = args.server or status.get("server") or "the server"
        password = _read_secret(f"Password for {name}: ")
        _request(
            "signin", server=args.server, password=password, remember=args.remember, timeout=70
        )
    return _outcome(_request("status"))


def cmd_switch(args: argparse.Namespace) -> int:
    # The daemon keeps the current session until the new sign-in can start: with no stored
    # password it answers "password_required" and changes nothing; then we ask here.
    reply = _request("switch", name=args.name, timeout=70)
    if reply and reply.get("password_required"):
        password = _read_secret(f"Password for {args.name}: ")
        _request("switch", name=args.name, password=password, timeout=70)
    return _outcome(_request("status"))


# --- sessions ----------------------------------------------------------------------------------


def _when(iso: str | None) -> str:
    from vms_tray.i18n import _

    if not iso:
        return _("unknown")  # the server does not say (AIPIX has no start time)
    return iso.replace("T", " ")[:16]


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]


def session_rows(sessions: list[dict[str, Any]], now: datetime | None = None) -> list[str]:
    """The session list as a table with column headers; every server string made printable.
    LAST ACTIVITY reads as in the User Sessions window ("5 min ago"), and the session it
    recommends ending first is marked so here too (``vms_tray.text.recommended``)."""
    from vms_tray.i18n import _
    from vms_tray.text import ago, printable, recommended

    now = now or datetime.now(UTC)
    header = (
        _("ID"),
        _("DEVICE"),
        _("SOFTWARE"),
        _("ADDRESS"),
        _("SINCE"),
        _("LAST ACTIVITY"),
        _("NOTE"),
    )
    best = recommended(sessions)
    rows: list[tuple[str, ...]] = [header]
    for s in sessions:
        notes = [_("this session")] if s["current"] else []
        if s["idle"]:
            notes.append(_("idle"))
        if str(s["id"]) == best:
            notes.append(_("recommended"))
        software = f"{s['software']} {s['version']}".strip()
        cells = (
            s["id"],
            s["device"],
            software,
            s["address"],
            _when(s["started_at"]),
            ago(s["last_activity"], now),
            ", ".join(notes),
        )
        rows.append(tuple(printable(str(cell)) for cell in cells))
    return _table(rows)


def cmd_sessions(args: argparse.Namespace) -> int:
    listing = _request("sessions", timeout=30)
    if args.json:
        # ensure_ascii (the default) writes control and bidi characters as \u escapes.
        print(json.dumps(listing, indent=2))
        return 0
    from vms_tray.text import limit_as_of, seats

    lim = listing["limit"]
    if lim.get("as_of") and lim["max"] is not None:
        # A limit learnt earlier (AIPIX states it only in a 419): it may be stale.
        print(limit_as_of(lim["active"], lim["max"], lim["as_of"]))
    else:
        print(seats(lim["active"], lim["max"]))
    if listing["sessions"]:
        print("\n".join("  " + row for row in session_rows(listing["sessions"])))
    return 0


def _whose(entry: dict[str, Any]) -> str:
    """ "OPS-PC-12's session (id X)", or "session X" when the server names no device."""
    from vms_tray.i18n import _
    from vms_tray.text import printable

    ids = {"device": printable(entry["device"]), "id": printable(entry["id"])}
    if entry["device"]:
        return _("%(device)s's session (id %(id)s)") % ids
    return _("session %(id)s") % ids


def _session_to_end(session_id: str) -> dict[str, Any]:
    """The listed session ``session_id`` names; refuses an unknown id and one's own session."""
    from vms_tray.errors import InvalidInput
    from vms_tray.i18n import _
    from vms_tray.text import printable

    if session_id == "current":
        # The protocol's name for the caller's own session: ending it is signing out.
        raise InvalidInput(_("'current' is this session: use 'vms-tray signout' to end it"))
    listing = _request("sessions", timeout=30)
    entry: dict[str, Any] | None = next(
        (s for s in listing["sessions"] if s["id"] == session_id), None
    )
    if entry is None:
        raise InvalidInput(
            _("no session with id %(id)s; run 'vms-tray sessions' to list them")
            % {"id": printable(session_id)}
        )
    if entry["current"]:
        raise InvalidInput(_("that is this session: use 'vms-tray signout' to end it"))
    return entry


def cmd_sessions_end(args: argparse.Namespace) -> int:
    from vms_tray.i18n import _

    entry = _session_to_end(args.id)
    if not args.yes:
        print(
            _("End %(whose)s? Whoever uses it is signed out and may lose unsaved data.")
            % {"whose": _whose(entry)},
            file=sys.stderr,
        )
        try:
            answer = input(_("End it? [y/N] "))
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print(_("Nothing was ended."))
            return 1
    before = _request("status")
    _request("end-session", id=args.id, timeout=60)
    if before["state"] == "limit_reached":
        return _outcome(_request("status"))
    print(_("Ended %(whose)s.") % {"whose": _whose(entry)})
    return 0


def cmd_sessions_handover(args: argparse.Namespace) -> int:
    from vms_tray.text import printable

    answer = _request("handover", id=args.id, timeout=60)
    print(
        f"Asked session {printable(args.id)} to hand over its seat; the server ends it by "
        f"{answer['deadline']} at the latest. vms-tray signs you in when the seat is yours "
        "('vms-tray status' shows it)."
    )
    return 0


def cmd_wait(args: argparse.Namespace) -> int:
    _request("wait")
    if args.timeout <= 0:
        print("Waiting for a free seat: vms-tray signs in as soon as one frees up.")
        return 0
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        status = _request("status")
        if status["state"] != "limit_reached" and status["state"] != "signing_in":
            return _outcome(status)
        time.sleep(0.5)
    print(f"Still no free seat after {args.timeout:g}s; vms-tray keeps waiting.")
    return 1


# --- captcha -----------------------------------------------------------------------------------


def cmd_captcha_save(args: argparse.Namespace) -> int:
    import base64

    from vms_tray import safefs
    from vms_tray.errors import InvalidInput

    captcha = _request("captcha")
    data = base64.b64decode(captcha["png"])
    target: Path = args.file
    try:
        # 0644, what a plain write gave under the usual umask: an image viewer opens it.
        safefs.write_atomic(target, data, 0o644)
    except OSError as exc:
        raise InvalidInput(f"cannot write {target}: {exc.strerror or exc}") from None
    print(
        f"Saved the captcha to {target} (valid for {captcha['expires_in']:.0f}s); "
        "answer with 'vms-tray captcha answer -' (it asks for the characters)."
    )
    return 0


def cmd_captcha_refresh(args: argparse.Namespace) -> int:
    _request("captcha-refresh", timeout=30)
    print("New captcha ready: 'vms-tray captcha save FILE' to see it.")
    return 0


def cmd_captcha_answer(args: argparse.Namespace) -> int:
    code = _read_secret("Captcha: ") if args.code == "-" else args.code
    _request("captcha-answer", code=code, timeout=70)
    return _outcome(_request("status"))
