"""Sign-in dialog: server, login, masked password, "Remember password", inline errors.

Request::

    {"servers": [{"name": "HQ", "login": "op", "default": true, "saved_password": false}],
     "server": "HQ", "login": "op", "remember": false,
     "error": {"kind": "credentials|unreachable|untrusted|changed|other",
               "message": "...", "fingerprint": "AB:CD:..."}}

``kind`` "untrusted" (first contact) and "changed" (the pinned certificate was replaced) show the
fingerprint and a "Trust this certificate" choice.

Answers: ``{"action": "login", "server", "login", "password", "remember", "trust_fingerprint"}``
(``password`` is null when the server has a saved password and the field was left empty;
``trust_fingerprint`` is set when the user ticked "Trust this certificate"),
``{"action": "manage_servers"}``, ``{"action": "cancel"}``.
"""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Any

from vms_tray.dialogs.common import Dialog, Json, T


def _error_text(error: Json) -> str:
    kind = error.get("kind")
    message = str(error.get("message") or "")
    if kind == "credentials":
        return T("Wrong login or password.") + (f" {message}" if message else "")
    if kind == "unreachable":
        return T("The server cannot be reached. Check the address and your network.") + (
            f"\n{message}" if message else ""
        )
    if kind == "changed":
        return T(
            "The server's certificate has changed since you trusted it. Trust the new one only "
            "if your administrator confirms the fingerprint below."
        )
    if kind == "untrusted":
        return T(
            "The server's certificate is not trusted. Compare the fingerprint below with the "
            "one your administrator gave you before trusting it."
        )
    return message or T("Signing in failed.")


def run(request: Json, dlg: Dialog) -> None:
    servers: list[Json] = list(request.get("servers") or [])
    names = [str(s["name"]) for s in servers]
    by_name = {str(s["name"]): s for s in servers}
    current = request.get("server") or next(
        (s["name"] for s in servers if s.get("default")), names[0] if names else ""
    )
    f = dlg.frame
    px = dlg.px
    dlg.root.title(T("Sign in — vms-tray"))

    ttk.Label(f, text=T("Sign in to a video surveillance server"), font="VmsTrayBold").grid(
        row=0, column=0, columnspan=3, sticky="w", pady=(0, px(8))
    )

    ttk.Label(f, text=T("Server:")).grid(row=1, column=0, sticky="w", pady=px(3))
    server_var = tk.StringVar(value=str(current))
    server_box = ttk.Combobox(f, textvariable=server_var, values=names, state="readonly", width=28)
    server_box.grid(row=1, column=1, columnspan=2, sticky="ew", pady=px(3))

    ttk.Label(f, text=T("Login:")).grid(row=2, column=0, sticky="w", pady=px(3))
    login_var = tk.StringVar(
        value=str(request.get("login") or by_name.get(str(current), {}).get("login") or "")
    )
    login_entry = ttk.Entry(f, textvariable=login_var, width=30)
    login_entry.grid(row=2, column=1, columnspan=2, sticky="ew", pady=px(3))

    ttk.Label(f, text=T("Password:")).grid(row=3, column=0, sticky="w", pady=px(3))
    password_var = tk.StringVar()
    password_entry = ttk.Entry(f, textvariable=password_var, show="•", width=30)
    password_entry.grid(row=3, column=1, columnspan=2, sticky="ew", pady=px(3))

    remember_var = tk.BooleanVar(value=bool(request.get("remember")))
    ttk.Checkbutton(
        f, text=T("Remember password (in the system keyring)"), variable=remember_var
    ).grid(row=4, column=1, columnspan=2, sticky="w", pady=px(3))

    saved_hint = ttk.Label(f, text="", style="Hint.TLabel")
    saved_hint.grid(row=5, column=1, columnspan=2, sticky="w")

    error: Json = dict(request.get("error") or {})
    message = ttk.Label(
        f, text=_error_text(error) if error else "", style="Error.TLabel", wraplength=px(380)
    )
    message.grid(row=6, column=0, columnspan=3, sticky="w", pady=(px(6), 0))

    trust_var = tk.BooleanVar(value=False)
    fingerprint = str(error.get("fingerprint") or "")
    trusting = error.get("kind") in ("untrusted", "changed") and bool(fingerprint)
    if trusting:
        fp = ttk.Entry(f, width=48, font="TkFixedFont")
        fp.insert(0, fingerprint)
        fp.configure(state="readonly")
        fp.grid(row=7, column=0, columnspan=3, sticky="ew", pady=px(3))
        ttk.Checkbutton(
            f, text=T("Trust this certificate for this server"), variable=trust_var
        ).grid(row=8, column=0, columnspan=3, sticky="w")

    def say(label: ttk.Label, text: str) -> None:
        # An empty message takes no room: the dialog keeps its shape tight.
        label.configure(text=text)
        if text:
            label.grid()
        else:
            label.grid_remove()

    say(message, str(message.cget("text")))

    def saved_password(name: str) -> bool:
        return bool(by_name.get(name, {}).get("saved_password"))

    def on_server(_e: Any = None) -> None:
        conn = by_name.get(server_var.get(), {})
        if conn.get("login"):
            login_var.set(str(conn["login"]))
        say(
            saved_hint,
            T("A saved password is used if you leave the field empty.")
            if saved_password(server_var.get())
            else "",
        )

    server_box.bind("<<ComboboxSelected>>", on_server)
    on_server()
    if request.get("login"):
        login_var.set(str(request["login"]))

    def submit() -> None:
        if not names:
            say(message, T("Add a server first: Manage video surveillance servers."))
            return
        login = login_var.get().strip()
        if not login:
            say(message, T("Enter your login."))
            login_entry.focus_set()
            return
        password = password_var.get()
        if not password and not saved_password(server_var.get()):
            say(message, T("Enter your password."))
            password_entry.focus_set()
            return
        if trusting and not trust_var.get():
            say(message, T("Tick “Trust this certificate” to connect, or cancel."))
            return
        dlg.finish(
            {
                "action": "login",
                "server": server_var.get(),
                "login": login,
                "password": password or None,
                "remember": remember_var.get(),
                "trust_fingerprint": fingerprint if trust_var.get() else None,
            }
        )

    dlg.buttons(
        9,
        [
            (
                T("Manage video surveillance servers…"),
                lambda: dlg.finish({"action": "manage_servers"}),
                False,
            ),
            (T("Cancel"), dlg.cancel, False),
            (T("Log in"), submit, True),
        ],
    )
    f.columnconfigure(1, weight=1)
    dlg.root.bind("<Return>", lambda _e: submit())
    dlg.root.bind("<KP_Enter>", lambda _e: submit())
    focus = login_entry if not login_var.get() else password_entry
    dlg.show(focus=focus)
