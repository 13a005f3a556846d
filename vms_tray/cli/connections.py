"""``vms-tray servers list|add|edit|remove|default|reset|trust``: the connection list.

Wiring only: the rules live in :mod:`vms_tray.connections`, passwords in
:mod:`vms_tray.credentials`, certificates in :mod:`vms_tray.net.tls`.

What a command reads and writes with (the server list's rules and store, its URLs' IDNA, the
control socket, the keyring) is imported inside the command, and the ``servers`` parser is
filled when it is chosen: ``--help`` and every other command import this module, and ``status``
needs none of it (CLI start-up, issue 13).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vms_tray.connections.managed import Merged
    from vms_tray.connections.model import Connection, Trust
    from vms_tray.connections.rules import ConnectionList
    from vms_tray.connections.store import ConnectionStore
    from vms_tray.net.tls import PeerCertificate

FETCH_TIMEOUT = 10.0
RELOAD_TIMEOUT = 2.0


def _reload_daemon() -> None:
    """A running vms-tray shows the changed list now, not at its next poll. Best effort and
    silent: with no daemon (or a busy one) the next start or poll reads the file anyway."""
    from vms_tray import control
    from vms_tray.errors import VmsTrayError

    with contextlib.suppress(VmsTrayError, OSError):
        control.request("reload", timeout=RELOAD_TIMEOUT)


# What the client calls itself to servers that ask (docs/aipix.md: AIPIX's X-Client).
CLIENT_TYPE_HELP = "the client type sent to AIPIX servers as X-Client (default thick-legal)"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "servers",
        help="list, add, change and remove server connections",
        description="The VMS servers vms-tray can sign in to. Exactly one is the default.",
    )
    p.fill = _fill


def _fill(p: argparse.ArgumentParser) -> None:
    from vms_tray.connections.model import KNOWN_KINDS

    sub = p.add_subparsers(dest="servers_command", metavar="ACTION")
    sub.required = True

    cmd = sub.add_parser("list", help="show the servers (* marks the default)")
    cmd.add_argument("--json", action="store_true", help="machine-readable output")
    cmd.set_defaults(func=_list)

    cmd = sub.add_parser(
        "add",
        help="add a server (the first one becomes the default)",
        description="Add a server. URL must be https (https:// is added when omitted).",
    )
    cmd.add_argument("name", metavar="NAME", help="a short name, unique ignoring case")
    cmd.add_argument("url", metavar="URL", help="e.g. vms.example.com or https://host:8443/vms")
    cmd.add_argument("--login", required=True, help="the user name to sign in with")
    cmd.add_argument("--kind", choices=KNOWN_KINDS, default="native", help="server software")
    cmd.add_argument("--ca-file", metavar="FILE", help="trust only the CAs in this PEM file")
    cmd.add_argument("--client-type", metavar="TYPE", help=CLIENT_TYPE_HELP)
    cmd.set_defaults(func=_add)

    cmd = sub.add_parser("edit", help="change a server's name, URL, login, kind or trust")
    cmd.add_argument("name", metavar="NAME")
    cmd.add_argument("--name", dest="new_name", metavar="NEW", help="rename it")
    cmd.add_argument("--url", help="a new https URL")
    cmd.add_argument("--login", help="a new user name")
    cmd.add_argument("--kind", choices=KNOWN_KINDS, help="server software")
    trust = cmd.add_mutually_exclusive_group()
    trust.add_argument("--ca-file", metavar="FILE", help="trust only the CAs in this PEM file")
    trust.add_argument(
        "--system-ca", action="store_true", help="trust the system's CAs (drops a pin or CA file)"
    )
    cmd.add_argument("--client-type", metavar="TYPE", help=CLIENT_TYPE_HELP + "; '' resets it")
    cmd.set_defaults(func=_edit)

    cmd = sub.add_parser("remove", help="remove a server and forget its password")
    cmd.add_argument("name", metavar="NAME")
    cmd.set_defaults(func=_remove)

    cmd = sub.add_parser("default", help="make a server the default")
    cmd.add_argument("name", metavar="NAME")
    cmd.set_defaults(func=_default)

    cmd = sub.add_parser(
        "reset",
        help="move the server list aside (kept as a timestamped backup) and start empty",
    )
    cmd.set_defaults(func=_reset)

    cmd = sub.add_parser(
        "trust",
        help="show a server's certificate and pin it",
        description=(
            "Fetch the server's certificate, show its SHA-256 fingerprint and, once you confirm "
            "it matches what the server's administrator gave you, trust exactly that certificate."
        ),
    )
    cmd.add_argument("name", metavar="NAME")
    cmd.add_argument("--yes", action="store_true", help="pin without asking")
    cmd.add_argument(
        "--fingerprint",
        metavar="SHA256",
        help="pin only if the server's certificate has this fingerprint (implies --yes)",
    )
    cmd.set_defaults(func=_trust)


# --- list --------------------------------------------------------------------------------------


def _password_status(lst: ConnectionList) -> dict[str, bool | None]:
    """Whether each connection has a stored password; None where that cannot be known."""
    status: dict[str, bool | None] = {c.name: None for c in lst}
    if not lst:
        return status
    # A running daemon has its keyring open already: asking it costs a round trip, where
    # loading keyring and its Secret Service backend here costs ~60 ms (issue 13).
    from vms_tray import control
    from vms_tray.errors import ControlError

    try:
        answer = control.request("passwords", names=list(status), timeout=5)
    except (ControlError, OSError):
        answer = None
    if isinstance(answer, dict):
        known: dict[str, bool | None] = {
            k: v for k, v in answer.items() if k in status and isinstance(v, bool)
        }
        if len(known) == len(status):
            return known
    # Imported here: keyring and its backend load only in the commands that use the keyring
    # (a measured start-up cost, issue 13: `vms-tray --help` and `status` never do).
    from vms_tray.credentials import Credentials, secure_backend
    from vms_tray.errors import CredentialError, NoSecureKeyring

    try:
        creds = Credentials(secure_backend())
    except NoSecureKeyring:
        return status
    for c in lst:
        try:
            status[c.name] = creds.has(c.name)
        except CredentialError:
            return status  # a locked keyring: don't fail a listing over it
    return status


def _trust_json(t: Trust) -> dict[str, Any]:
    return {"mode": t.mode, "ca_file": t.ca_file, "pin_sha256": t.pin_sha256}


def _trust_text(t: Trust) -> str:
    if t.mode == "pinned" and t.pin_sha256:
        return f"pinned {t.pin_sha256[:11]}…"
    if t.mode == "ca-file":
        return f"ca-file {t.ca_file}"
    return t.mode


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def _seen(store: ConnectionStore | None = None) -> Merged:
    """The list the user sees (theirs and the administrator's); a bad system file is one line
    on stderr and left out."""
    from vms_tray.connections.managed import visible

    view = visible(store)
    if view.managed.problem:
        print(f"vms-tray: warning: {view.managed.problem}", file=sys.stderr)
    return view


def _own(view: Merged, name: str) -> Connection:
    """The named server, refused when the administrator manages it."""
    from vms_tray.errors import ManagedConnection

    c = view.list.get(name)
    if c.managed_by is not None:
        raise ManagedConnection(c.name, c.managed_by)
    return c


def _list(args: argparse.Namespace) -> int:
    from vms_tray.urls import display_url

    view = _seen()
    lst = view.list
    stored = _password_status(lst)
    for name in view.shadowed:
        print(
            f"vms-tray: note: your server {name!r} is hidden by the administrator's of the same "
            f"name (in {view.managed.path})",
            file=sys.stderr,
        )
    if args.json:
        items = [
            {
                "name": c.name,
                "url": c.url,
                "login": c.login,
                "default": c.default,
                "kind": c.kind,
                "trust": _trust_json(c.trust),
                "password_stored": stored[c.name],
                "last_used": c.name == lst.last_used,
                "managed": c.managed_by is not None,
                "managed_by": c.managed_by,
            }
            for c in lst
        ]
        print(json.dumps(items, indent=2, ensure_ascii=False))
        return 0
    if not lst:
        print("No servers yet. Add one with: vms-tray servers add NAME URL --login LOGIN")
        return 0
    header = ("", "NAME", "URL", "LOGIN", "KIND", "TRUST", "PASSWORD STORED")
    rows = [header] + [
        (
            ("*" if c.default else "") + ("M" if c.managed_by else ""),
            c.name,
            display_url(c.url),
            c.login,
            c.kind,
            _trust_text(c.trust),
            _yes_no(stored[c.name]),
        )
        for c in lst
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    print(
        "\n* = default server"
        + (", M = managed by the administrator" if view.managed.connections else "")
    )
    return 0


# --- changes -----------------------------------------------------------------------------------


def _add(args: argparse.Namespace) -> int:
    from vms_tray.connections.policy import load_policy
    from vms_tray.connections.rules import ca_file_trust
    from vms_tray.connections.store import ConnectionStore
    from vms_tray.errors import DuplicateName, InvalidInput
    from vms_tray.urls import display_url

    trust = ca_file_trust(args.ca_file) if args.ca_file else None
    policy = load_policy()
    if policy.lock_servers:
        raise InvalidInput(
            f"the administrator has locked the server list (lock_servers in {policy.path}): "
            "no servers can be added"
        )
    clash = _seen().list.find(args.name)
    if clash is not None and clash.managed_by is not None:
        raise DuplicateName(
            f"the administrator's server {clash.name!r} (in {clash.managed_by}) has that name "
            "(names ignore case): choose another name"
        )
    lst = ConnectionStore().update(
        lambda lst: lst.add(
            args.name,
            args.url,
            args.login,
            kind=args.kind,
            trust=trust,
            client_type=args.client_type,
        )
    )
    _reload_daemon()
    c = lst.get(args.name)
    shown = display_url(c.url)
    print(
        f"Added {c.name}: {c.url}"
        + (f" ({shown})" if shown != c.url else "")
        + (", the default server" if c.default else "")
    )
    return 0


def _edit(args: argparse.Namespace) -> int:
    from vms_tray.connections.model import Trust
    from vms_tray.connections.rules import ListChanges, ca_file_trust
    from vms_tray.connections.store import ConnectionStore
    from vms_tray.errors import InvalidInput
    from vms_tray.text import command_line

    trust: Trust | None = None
    if args.ca_file:
        trust = ca_file_trust(args.ca_file)
    elif args.system_ca:
        trust = Trust()
    changes = (args.new_name, args.url, args.login, args.kind, trust, args.client_type)
    if all(v is None for v in changes):
        raise InvalidInput(
            "nothing to change: give --name, --url, --login, --kind, --ca-file, --system-ca "
            "or --client-type"
        )
    store = ConnectionStore()
    _own(_seen(store), args.name)
    old = store.load().get(args.name)
    lst = store.update(
        lambda lst: lst.edit(
            args.name,
            new_name=args.new_name,
            url=args.url,
            login=args.login,
            kind=args.kind,
            trust=trust,
            client_type=args.client_type,
        )
    )
    new = lst.get(args.new_name if args.new_name is not None else args.name)
    from vms_tray.credentials import follow_changes  # lazy: see _password_status

    try:
        if new.name != old.name:
            follow_changes(ListChanges({old.name: new.name}))
    finally:
        _reload_daemon()  # the list changed even if the password could not follow
    print(
        f"Updated {new.name}: {new.url} (login {new.login}, {new.kind}, {_trust_text(new.trust)})"
    )
    if new.url != old.url and new.trust.mode == "pinned":
        print(
            f"Note: {new.name} stays pinned to the old address's certificate; if the new address "
            f"has another one, run: {command_line('servers', 'trust', new.name)}"
        )
    return 0


def _remove(args: argparse.Namespace) -> int:
    from vms_tray.connections.rules import ListChanges
    from vms_tray.connections.store import ConnectionStore

    store = ConnectionStore()
    _own(_seen(store), args.name)
    current = store.load()
    target = current.get(args.name)
    current.remove(target.name)  # refuse (e.g. the default) before touching the keyring
    from vms_tray.credentials import follow_changes  # lazy: see _password_status

    forgot = bool(follow_changes(ListChanges({}, (target.name,))))
    store.update(lambda lst: lst.remove(target.name))
    _reload_daemon()
    print(f"Removed {target.name}" + (" and its stored password" if forgot else ""))
    return 0


def _default(args: argparse.Namespace) -> int:
    from vms_tray.connections.store import ConnectionStore

    _own(_seen(), args.name)
    lst = ConnectionStore().update(lambda lst: lst.set_default(args.name))
    _reload_daemon()
    print(f"{lst.get(args.name).name} is now the default server")
    return 0


def _reset(args: argparse.Namespace) -> int:
    from vms_tray.connections.store import ConnectionStore

    store = ConnectionStore()
    backup = store.reset()
    _reload_daemon()
    if backup is None:
        print(f"{store.path} does not exist: the server list is already empty")
    else:
        print(f"Moved {store.path} to {backup}; the server list is now empty")
    return 0


# --- trust -------------------------------------------------------------------------------------


def _show_certificate(c: Connection, cert: PeerCertificate) -> None:
    from vms_tray.text import printable
    from vms_tray.urls import display_url

    # Subject, issuer and names are the server's words: made printable.
    print(f"Server:       {c.name} ({display_url(c.url)})")
    print(f"Subject:      {printable(cert.subject)}")
    if cert.issuer:
        shown = printable(cert.issuer) + (" (self-signed)" if cert.self_signed else "")
        print(f"Issuer:       {shown}")
    if cert.dns_names:
        print(f"Names:        {printable(', '.join(cert.dns_names))}")
    print(f"Valid until:  {cert.not_after:%Y-%m-%d %H:%M} UTC")
    print(f"SHA-256:      {cert.sha256}")


def _confirm(prompt: str) -> bool:
    try:
        answer = input(prompt)
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def _trust(args: argparse.Namespace) -> int:
    from vms_tray.connections.model import Trust, normalize_fingerprint
    from vms_tray.connections.store import ConnectionStore
    from vms_tray.errors import InvalidInput
    from vms_tray.net.proxy import proxy_for
    from vms_tray.net.tls import fetch_peer_certificate

    expected = normalize_fingerprint(args.fingerprint) if args.fingerprint else None
    store = ConnectionStore()
    c = _own(_seen(store), args.name)
    proxy = proxy_for(c.url)
    cert = fetch_peer_certificate(c.url, timeout=FETCH_TIMEOUT, proxy=proxy)
    _show_certificate(c, cert)
    if c.trust.mode == "pinned" and c.trust.pin_sha256 == cert.sha256:
        print(f"{c.name} already trusts exactly this certificate: nothing to do")
        return 0
    if c.trust.mode == "pinned":
        print(f"WARNING: {c.name} is pinned to a different certificate: {c.trust.pin_sha256}")
    if expected is not None:
        if expected != cert.sha256:
            raise InvalidInput(
                f"the server's certificate fingerprint is not the expected {expected}: "
                "nothing was pinned (ask the server's administrator which one is right)"
            )
    elif not args.yes:
        if not sys.stdin.isatty():
            raise InvalidInput(
                "cannot ask for confirmation: stdin is not a terminal (compare the fingerprint "
                "above, then run again with --yes or --fingerprint SHA256)"
            )
        if not _confirm("Trust this certificate? [y/N] "):
            print("Not trusted: nothing was changed", file=sys.stderr)
            return 1
    pin = Trust(mode="pinned", pin_sha256=cert.sha256)
    store.update(lambda lst: lst.edit(c.name, trust=pin))
    _reload_daemon()
    print(f"Pinned: {c.name} now trusts only the certificate with SHA-256 {cert.sha256}")
    return 0
