"""Servers ▸ Manage servers: the connection list on disk, shown in the connections dialog and
saved from its answer (renames and removals carry the stored passwords along).

The sign-in dialog lists the same servers and pins a certificate the user chose to trust; both
go through here, so the tray reads and writes the list in one place.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from vms_tray import commands
from vms_tray.connections.managed import visible
from vms_tray.connections.model import (
    KNOWN_KINDS,
    Connection,
    Trust,
    connection_from_json,
    connection_to_json,
)
from vms_tray.connections.policy import load_policy
from vms_tray.connections.rules import ConnectionList, ListChanges, name_key
from vms_tray.connections.store import ConnectionStore
from vms_tray.credentials import Credentials, follow_changes
from vms_tray.errors import InvalidInput, ManagedConnection
from vms_tray.tray.dialog_host import DialogHost
from vms_tray.tray.ports import DaemonPort, Json

log = logging.getLogger(__name__)


def _original(row: Json) -> str | None:
    """The name a saved row had in the request; a row without the key (an older dialog): a
    connection keeps its name."""
    value = row["original"] if "original" in row else row.get("name")
    return str(value) if value else None


def _same(a: Connection, b: Connection) -> bool:
    """What the dialog can change of a server (its name, address, login and kind)."""
    return (a.name, a.url, a.login, a.kind) == (b.name, b.url, b.login, b.kind)


def check_save(
    shown: ConnectionList, rows: list[tuple[str | None, Connection]], locked: str | None
) -> None:
    """Refuse a saved table that changes or drops an administrator's server, or under
    lock_servers (``locked``: the policy file) adds, changes or drops one of the user's own;
    the default may still move. The dialog greys these out; this is the rule (an older or
    misbehaving dialog, a race with the administrator's file)."""
    by_original = {name_key(o): c for o, c in rows if o is not None}
    for old in shown:
        new = by_original.get(name_key(old.name))
        if old.managed_by is not None and (new is None or not _same(old, new)):
            raise ManagedConnection(old.name, old.managed_by)
        if locked and (new is None or not _same(old, new)):
            raise InvalidInput(_locked(locked))
    if locked and any(o is None or shown.find(o) is None for o, _c in rows):
        raise InvalidInput(_locked(locked))


def _locked(path: str) -> str:
    return (
        f"the administrator has locked the server list (lock_servers in {path}): servers "
        "cannot be added, changed or deleted"
    )


class ConnectionsDialog:
    def __init__(
        self, daemon: DaemonPort, dialogs: DialogHost, credentials: Credentials | None = None
    ) -> None:
        """``credentials``: where server passwords follow renames and removals (default: the
        secure keyring, as for the CLI)."""
        self.daemon = daemon
        self.dialogs = dialogs
        self.credentials = credentials

    def connections(self) -> list[Connection]:
        """The list as it is on disk now (the CLI may have changed it), the administrator's
        servers included (marked ``managed_by``); empty if unreadable."""
        try:
            view = visible()
            if view.managed.problem:
                log.warning("%s", view.managed.problem)
            return list(view.list.connections)
        except Exception as exc:
            log.warning("could not read the server list: %s", exc)
            return []

    def pin_certificate(self, server: str, fingerprint: str) -> None:
        """The user trusts the certificate the sign-in dialog showed: pin it, then let the
        daemon read the list again before it signs in."""
        ConnectionStore().update(
            lambda lst: lst.edit(server, trust=Trust(mode="pinned", pin_sha256=fingerprint))
        )
        log.info("pinned the certificate of %s", server)
        self.daemon.post(commands.ReloadConfig())

    @staticmethod
    def _locked() -> str | None:
        """The policy file while it locks the server list, else None."""
        policy = load_policy()
        if policy.problem:
            log.warning("%s", policy.problem)
        return str(policy.path) if policy.lock_servers else None

    def open(self, error: str | None = None) -> None:
        """``error``: why the last save was refused (shown in the dialog)."""
        data = {
            "connections": [connection_to_json(c) for c in self.connections()],
            "kinds": list(KNOWN_KINDS),
            "locked": self._locked(),
            "error": error,
        }
        self.dialogs.open("connections", data, self.answered)

    def answered(self, ans: Json) -> None:
        if ans.get("action") != "save":
            return
        answered_rows = ans.get("connections") or []
        try:
            check_save(
                ConnectionList(self.connections()),
                [(_original(d), connection_from_json(d)) for d in answered_rows],
                self._locked(),
            )
        except InvalidInput as exc:
            # Nothing is saved; the dialog comes back with the list as it is and the reason.
            log.warning("not saving the server list: %s", exc)
            self.open(error=str(exc))
            return

        # The administrator's servers are shown, never saved into the user's file; the user's
        # servers they hide stay as they are.
        managed = {name_key(c.name) for c in self.connections() if c.managed_by}
        rows = [(_original(d), connection_from_json(d)) for d in answered_rows]
        rows = [(o, c) for o, c in rows if name_key(c.name) not in managed]
        changes = ListChanges({})

        def change(old: ConnectionList) -> ConnectionList:
            nonlocal changes
            hidden = [
                (c.name, replace(c, default=False)) for c in old if name_key(c.name) in managed
            ]
            mine = rows + hidden
            if mine and not any(c.default for _o, c in mine):
                # The default was a managed server: the user's file keeps one of its own.
                mine[0] = (mine[0][0], replace(mine[0][1], default=True))
            new, changes = old.replaced(mine)
            return new

        ConnectionStore().update(change)
        self.daemon.post(commands.ReloadConfig())
        try:
            # The same rule as 'vms-tray servers edit --name' / 'servers remove'.
            follow_changes(changes, self.credentials)
        except Exception as exc:  # the list is saved; only the passwords lag behind
            log.error("could not update the stored passwords: %s", exc)
