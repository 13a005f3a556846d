"""Manage servers: the connection table with add, edit, delete, set default and Save.

The rules are :class:`vms_tray.connections.rules.ConnectionList`'s (https added, unique names,
one default, the default cannot be deleted): the dialog applies each change to a ConnectionList
and shows the rule it broke inline. Nothing is written here: the answer goes back to the tray,
which stores it.

Request: ``{"connections": [connection_to_json(c), ...], "kinds": ["native", "zoneminder"]}``,
optionally ``"locked": "<policy file>"`` (the administrator's lock_servers: no add, update or
delete) and ``"error": "..."`` (the tray refused the last save). A connection with
``managed_by`` is the administrator's: shown as managed, never updated or deleted here.
Answers: ``{"action": "save", "connections": [...]}`` or ``{"action": "cancel"}``. Each saved
connection carries ``"original"``: the name it had in the request (None for one added here), so
the tray can tell a rename (its password moves) from a removal and an addition.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from dataclasses import replace
from tkinter import ttk
from typing import Any

from vms_tray.connections.model import (
    KNOWN_KINDS,
    Connection,
    connection_from_json,
    connection_to_json,
)
from vms_tray.connections.rules import ConnectionList, name_key
from vms_tray.dialogs.common import Dialog, Json, T
from vms_tray.errors import (
    DefaultProtected,
    DuplicateName,
    InvalidInput,
    InvalidName,
    InvalidURL,
    ManagedConnection,
    UnknownConnection,
)


def explain(exc: Exception) -> str:
    """The broken rule, in the user's language, phrased for this dialog."""
    if isinstance(exc, DefaultProtected):
        return T("The default server cannot be deleted: make another server the default first.")
    if isinstance(exc, DuplicateName):
        return T("A server with this name already exists (names ignore case).")
    if isinstance(exc, InvalidURL):
        return T("The address is not valid: %(why)s") % {"why": str(exc)}
    if isinstance(exc, InvalidName):
        return T("Enter a name for the server.") + f" ({exc})"
    if isinstance(exc, ManagedConnection):
        return managed_text(exc.name, exc.path)
    if isinstance(exc, UnknownConnection):
        return T("Select a server in the table first.")
    return str(exc)


def managed_text(name: str, path: str) -> str:
    return T(
        "%(name)s is managed by your administrator (%(path)s): it cannot be changed or deleted."
    ) % {"name": name, "path": path}


def locked_text(path: str) -> str:
    return T(
        "Your administrator has locked the server list (%(path)s): servers cannot be added, "
        "changed or deleted."
    ) % {"path": path}


def refusal(c: Connection | None, locked: str | None) -> str | None:
    """Why Update and Delete are off for ``c`` (the selected server), or None."""
    reasons = []
    if c is not None and c.managed_by:
        reasons.append(managed_text(c.name, c.managed_by))
    if locked:
        # Said too beside a managed server's reason: it is why Add is greyed out.
        reasons.append(locked_text(locked))
    return "\n".join(reasons) or None


def from_request(d: Json) -> Connection:
    """connection_from_json keeps no managed_by (a user's row never sets it): the dialog must."""
    managed_by = d.get("managed_by")
    return replace(connection_from_json(d), managed_by=str(managed_by) if managed_by else None)


def _breaking(cmd: Callable[[], None]) -> Callable[[Any], str]:
    def handler(_e: Any) -> str:
        cmd()
        return "break"

    return handler


def run(request: Json, dlg: Dialog) -> None:
    f = dlg.frame
    px = dlg.px
    dlg.root.title(T("Video surveillance servers — vms-tray"))
    state: dict[str, Any] = {
        "list": ConnectionList(from_request(d) for d in request.get("connections") or [])
    }
    locked = str(request.get("locked") or "") or None
    # name_key(current name) -> the name in the request (None: added here).
    origin: dict[str, str | None] = {name_key(c.name): c.name for c in state["list"]}
    kinds = [str(k) for k in request.get("kinds") or KNOWN_KINDS]

    columns = ("name", "url", "login", "default", "managed")
    tree = ttk.Treeview(f, columns=columns, show="headings", selectmode="browse", height=6)
    for col, text, width in (
        ("name", T("Name"), 130),
        ("url", T("Address"), 240),
        ("login", T("Login"), 110),
        ("default", T("Default"), 70),
        ("managed", T("Managed"), 150),
    ):
        tree.heading(col, text=text, anchor="w")
        tree.column(col, width=px(width), anchor="w", stretch=col == "url")
    tree.grid(row=0, column=0, columnspan=4, sticky="nsew")

    form = ttk.LabelFrame(f, text=T("Server"), padding=px(8))
    form.grid(row=1, column=0, columnspan=4, sticky="ew", pady=(px(8), 0))
    name_var, url_var, login_var = tk.StringVar(), tk.StringVar(), tk.StringVar()
    kind_var = tk.StringVar(value=kinds[0] if kinds else "native")
    entries: dict[str, ttk.Entry] = {}
    for row, (label, var, key) in enumerate(
        (
            (T("Name:"), name_var, "name"),
            (T("Address:"), url_var, "url"),
            (T("Login:"), login_var, "login"),
        )
    ):
        ttk.Label(form, text=label).grid(row=row, column=0, sticky="w", pady=px(2))
        e = ttk.Entry(form, textvariable=var, width=40)
        e.grid(row=row, column=1, sticky="ew", pady=px(2))
        entries[key] = e
    ttk.Label(form, text=T("Type:")).grid(row=3, column=0, sticky="w", pady=px(2))
    ttk.Combobox(form, textvariable=kind_var, values=kinds, state="readonly", width=14).grid(
        row=3, column=1, sticky="w", pady=px(2)
    )
    ttk.Label(form, text=T("https:// is added when you leave it out."), style="Hint.TLabel").grid(
        row=4, column=1, sticky="w"
    )
    form.columnconfigure(1, weight=1)

    actions = ttk.Frame(f)
    actions.grid(row=2, column=0, columnspan=4, sticky="w", pady=(px(6), 0))
    message = ttk.Label(f, text="", style="Error.TLabel", wraplength=px(560))
    message.grid(row=3, column=0, columnspan=4, sticky="w", pady=(px(4), 0))
    # Why the selected server (or the whole list) cannot be changed: always said, not only
    # after a click on a greyed-out button.
    why = ttk.Label(f, text="", style="Hint.TLabel", wraplength=px(560))
    why.grid(row=4, column=0, columnspan=4, sticky="w", pady=(px(2), 0))
    buttons: dict[str, ttk.Button] = {}

    def update_state() -> None:
        name = selected()
        c = state["list"].find(name) if name else None
        reason = refusal(c, locked)
        why.configure(text=reason or "")
        for key in ("update", "delete"):
            if key in buttons:
                buttons[key].state(["disabled"] if reason else ["!disabled"])
        for key in ("clear", "add"):
            if key in buttons:
                buttons[key].state(["disabled"] if locked else ["!disabled"])
        for e in entries.values():
            e.state(["readonly"] if reason else ["!readonly"])

    def refill(select: str | None = None) -> None:
        lst: ConnectionList = state["list"]
        tree.delete(*tree.get_children())
        for c in lst:
            tree.insert(
                "",
                "end",
                iid=c.name,
                values=(
                    c.name,
                    c.url,
                    c.login,
                    T("yes") if c.default else "",
                    T("by administrator") if c.managed_by else "",
                ),
            )
        if select and lst.find(select):
            name = lst.get(select).name
            tree.selection_set(name)
            tree.focus(name)
            tree.see(name)
        update_state()

    def selected() -> str | None:
        sel = tree.selection()
        return sel[0] if sel else None

    def on_select(_e: Any = None) -> None:
        name = selected()
        update_state()
        if not name:
            return
        c = state["list"].find(name)
        if c is None:
            return
        name_var.set(c.name)
        url_var.set(c.url)
        login_var.set(c.login)
        kind_var.set(c.kind)
        message.configure(text="")

    def apply(change: Any, select: str | None) -> bool:
        try:
            state["list"] = change()
        except InvalidInput as exc:
            message.configure(text=explain(exc), style="Error.TLabel")
            return False
        except UnknownConnection as exc:
            message.configure(text=explain(exc), style="Error.TLabel")
            return False
        message.configure(text="")
        refill(select)
        return True

    def refused(c: Connection | None) -> bool:
        """The code path refuses what the greyed-out buttons say (Enter, the Delete key)."""
        reason = refusal(c, locked)
        if reason:
            message.configure(text=reason, style="Error.TLabel")
        return reason is not None

    def new() -> None:
        if locked:
            return
        tree.selection_remove(*tree.selection())
        update_state()
        for var in (name_var, url_var, login_var):
            var.set("")
        message.configure(text="")
        entries["name"].focus_set()

    def add() -> None:
        if locked:
            refused(None)
            return
        before = len(state["list"])
        added = apply(
            lambda: state["list"].add(
                name_var.get(), url_var.get(), login_var.get(), kind=kind_var.get()
            ),
            None,
        )
        if added:
            origin[name_key(name_var.get())] = None
        if len(state["list"]) > before:
            # Ready for the next one; the table shows what was added.
            new()

    def edit() -> None:
        name = selected()
        if name is None:
            message.configure(text=T("Select a server in the table first."))
            return
        if refused(state["list"].find(name)):
            return
        new_name = name_var.get()
        edited = apply(
            lambda: state["list"].edit(
                name,
                new_name=new_name,
                url=url_var.get(),
                login=login_var.get(),
                kind=kind_var.get(),
            ),
            new_name.strip(),
        )
        if edited:
            origin[name_key(new_name)] = origin.pop(name_key(name), None)

    def delete() -> None:
        name = selected()
        if name is None:
            message.configure(text=T("Select a server in the table first."))
            return
        if refused(state["list"].find(name)):
            return
        if apply(lambda: state["list"].remove(name), None):
            origin.pop(name_key(name), None)

    def make_default() -> None:
        name = selected()
        if name is None:
            message.configure(text=T("Select a server in the table first."))
            return
        apply(lambda: state["list"].set_default(name), name)

    for i, (key, text, cmd) in enumerate(
        (
            ("clear", T("Clear form"), new),
            ("add", T("Add"), add),
            ("update", T("Update"), edit),
            ("delete", T("Delete"), delete),
            ("default", T("Set as default"), make_default),
        )
    ):
        b = ttk.Button(actions, text=text, command=cmd)
        buttons[key] = b
        b.grid(row=0, column=i, padx=(0, px(6)))
        b.bind("<Return>", _breaking(cmd))

    def save() -> None:
        lst: ConnectionList = state["list"]
        rows = [
            {**connection_to_json(c), "original": origin.get(name_key(c.name))}
            for c in lst.connections
        ]
        dlg.finish({"action": "save", "connections": rows})

    dlg.buttons(5, [(T("Cancel"), dlg.cancel, False), (T("Save"), save, True)])
    tree.bind("<<TreeviewSelect>>", on_select)
    tree.bind("<Delete>", lambda _e: delete())
    # Enter in the form adds (or updates the selected server); Ctrl+S saves the list.
    for e in entries.values():
        e.bind("<Return>", _breaking(lambda: edit() if selected() else add()))
    dlg.root.bind("<Control-s>", lambda _e: save())
    f.columnconfigure(0, weight=1)
    f.rowconfigure(0, weight=1)
    refill()
    update_state()
    first = next(iter(state["list"].names()), None)
    if first:
        tree.selection_set(first)
        tree.focus(first)
        on_select()
    if request.get("error"):
        message.configure(text=str(request["error"]), style="Error.TLabel")
    dlg.show(focus=entries["name"] if not first else tree)
