"""The administrator's servers: a system servers.toml merged into the list the user sees.

The API other modules use (nothing else here is public)::

    load_managed(path=None) -> Managed       never raises: a bad file is Managed.problem
        .path, .connections (marked managed_by), .problem (one line, naming the file) | None
    merged(user, managed) -> Merged
        .list -> ConnectionList              managed servers first, then the user's own
        .shadowed -> tuple[str, ...]         the user's servers hidden by a managed namesake
        .managed -> Managed
    visible(store, system_path=None, policy=None) -> Merged   the user's file and the
                                             administrator's, now; the policy's pins applied

The file has the user's format (:mod:`vms_tray.connections.store`); its path is
:func:`vms_tray.paths.system_servers_file` (``/etc/xdg/vms-tray/servers.toml``). A managed server
wins over a user's one of the same name. The default is the user's own default while the user
has servers of their own, else the administrator's. Writes go to the user's file only (the
store never sees managed servers), and the rules refuse to edit or remove a managed one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from vms_tray import paths
from vms_tray.connections.model import Connection, Trust
from vms_tray.connections.policy import Policy, load_policy
from vms_tray.connections.rules import ConnectionList, name_key
from vms_tray.connections.store import ConnectionStore, read_list
from vms_tray.errors import ConfigError

__all__ = ["Managed", "Merged", "load_managed", "merged", "visible"]


@dataclass(frozen=True)
class Managed:
    path: Path
    connections: tuple[Connection, ...] = ()
    problem: str | None = None


def load_managed(path: Path | None = None) -> Managed:
    path = path if path is not None else paths.system_servers_file()
    try:
        lst = read_list(path)
    except ConfigError as exc:
        return Managed(path, problem=f"{path}: {exc.problem}; its servers are ignored")
    return Managed(path, tuple(replace(c, managed_by=str(path)) for c in lst))


@dataclass(frozen=True)
class Merged:
    list: ConnectionList
    managed: Managed
    shadowed: tuple[str, ...] = field(default=())


def merged(user: ConnectionList, managed: Managed) -> Merged:
    if not managed.connections:
        return Merged(user, managed)
    keys = {name_key(c.name) for c in managed.connections}
    own = [c for c in user if name_key(c.name) not in keys]
    shadowed = tuple(c.name for c in user if name_key(c.name) in keys)
    user_default = any(c.default for c in own)
    items = [replace(c, default=c.default and not user_default) for c in managed.connections]
    items += [replace(c, default=c.default and user_default) for c in own]
    return Merged(ConnectionList(items, user.last_used), managed, shadowed)


def pinned(lst: ConnectionList, policy: Policy) -> ConnectionList:
    """``lst`` with the policy's pins as the trust of the servers it names."""
    if not policy.pins:
        return lst
    items = []
    for c in lst:
        pin = policy.pin_for(c.name)
        items.append(c if pin is None else replace(c, trust=Trust(mode="pinned", pin_sha256=pin)))
    return ConnectionList(items, lst.last_used)


def visible(
    store: ConnectionStore | None = None,
    system_path: Path | None = None,
    policy: Policy | None = None,
) -> Merged:
    """The list the user sees: ConfigError only for the user's own file (the administrator's
    is reported in ``.managed.problem`` and left out)."""
    store = store or ConnectionStore()
    view = merged(store.load(), load_managed(system_path))
    policy = policy if policy is not None else load_policy()
    return replace(view, list=pinned(view.list, policy))
