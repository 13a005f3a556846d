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
from vms_tray.connections.rules import ConnectionList, ListChanges, name_key
from vms_tray.connections.store import ConnectionStore
from vms_tray.credentials import Credentials, follow_changes
from vms_tray.tray.dialog_host import DialogHost
from vms_tray.tray.ports import DaemonPort, Json

log = logging.getLogger(__name__)


def _original(row: Json) -> str | None:
    """The name a saved row had in the request; a row without the key (an older dialog): a
    connection keeps its name."""
    value = row["original"] if "original" in row else row.get("name")
    return str(value) if value else None


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

    def open(self) -> None:
        data = {
            "connections": [connection_to_json(c) for c in self.connections()],
            "kinds": list(KNOWN_KINDS),
        }
        self.dialogs.open("connections", data, self.answered)

    def answered(self, ans: Json) -> None:
        if ans.get("action") != "save":
            return

        # The administrator's servers are shown, never saved into the user's file; the user's
        # servers they hide stay as they are.
        answered_rows = ans.get("connections") or []
        managed = {name_key(str(d["name"])) for d in answered_rows if d.get("managed_by")}
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
