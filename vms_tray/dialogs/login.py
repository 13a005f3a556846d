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
``"remember_forbidden": "<policy file>"`` (the administrator's forbid_remember_password): the
"Remember password" box is off, greyed out, with the reason; the answer's ``remember`` is false.
``"switching_from": "HQ"`` (a switch from the menu) adds a line saying that signing in to another
server ends the session on HQ.

With ``"live": true`` (the tray) "Sign in" does not close the dialog: it sends the same fields
as the event ``{"event": "submit", ...}`` and waits ("Signing in…"). The tray then closes it
(signed in, or on to the captcha or sessions dialog) or sends ``{"error": {...}}``: the error
shows inline, with the trust choice for a certificate, and the password field is selected
(then ``{"event": "error_shown"}``).
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
        # The server's own words say it already ("HQ refused the login or password: ..."):
        # never both, which read as the same sentence twice.
        return _sentence(message) if message else T("Wrong login or password.")
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


def _sentence(message: str) -> str:
    """Our one-line messages start lower case (they follow a colon elsewhere); alone in the
    dialog they read as a sentence."""
    return message[:1].upper() + message[1:] if message else message


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

    # A switch from the menu: say what confirming costs before the user types anything.
    switching_from = str(request.get("switching_from") or "")
    switch_hint = ttk.Label(f, text="", style="Hint.TLabel", wraplength=px(380))
    switch_hint.grid(row=9, column=0, columnspan=3, sticky="w", pady=(px(6), 0))

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

    forbidden = str(request.get("remember_forbidden") or "")
    remember_var = tk.BooleanVar(value=bool(request.get("remember")) and not forbidden)
    # The box and, when the policy forbids it, the reason under it: one grid row.
    remember_row = ttk.Frame(f)
    remember_row.grid(row=4, column=1, columnspan=2, sticky="w", pady=px(3))
    remember_box = ttk.Checkbutton(
        remember_row, text=T("Remember password (in the system keyring)"), variable=remember_var
    )
    remember_box.pack(anchor="w")
    if forbidden:
        remember_box.state(["disabled"])
        ttk.Label(
            remember_row,
            text=T("Your administrator does not allow saving passwords (%(path)s).")
            % {"path": forbidden},
            style="Hint.TLabel",
            wraplength=px(360),
        ).pack(anchor="w")

    # Always in the grid (an empty label keeps its line): choosing another server never
    # makes the dialog jump.
    saved_hint = ttk.Label(f, text="", style="Hint.TLabel")
    saved_hint.grid(row=5, column=1, columnspan=2, sticky="w")

    live = bool(request.get("live"))
    message = ttk.Label(f, text="", style="Error.TLabel", wraplength=px(380))
    message.grid(row=6, column=0, columnspan=3, sticky="w", pady=(px(6), 0))

    # The certificate rows exist from the start and show only for a certificate error. The
    # fingerprint field is as wide as a SHA-256 fingerprint (95 characters), never cut off.
    trust_var = tk.BooleanVar(value=False)
    fp = ttk.Entry(f, width=96, font="TkFixedFont")
    fp.grid(row=7, column=0, columnspan=3, sticky="ew", pady=px(3))
    trust_box = ttk.Checkbutton(
        f, text=T("Trust this certificate for this server"), variable=trust_var
    )
    trust_box.grid(row=8, column=0, columnspan=3, sticky="w")
    state: dict[str, Any] = {"fingerprint": "", "busy": False}

    def say(label: ttk.Label, text: str) -> None:
        # An empty message takes no room: the dialog keeps its shape tight.
        label.configure(text=text)
        if text:
            label.grid()
        else:
            label.grid_remove()

    def show_error(error: Json) -> None:
        say(message, _error_text(error) if error else "")
        fingerprint = str(error.get("fingerprint") or "")
        if error.get("kind") in ("untrusted", "changed") and fingerprint:
            fp.configure(state="normal")
            fp.delete(0, "end")
            fp.insert(0, fingerprint)
            fp.configure(state="readonly")
            fp.grid()
            trust_box.grid()
            state["fingerprint"] = fingerprint
        else:
            fp.grid_remove()
            trust_box.grid_remove()
            state["fingerprint"] = ""
        trust_var.set(False)

    show_error(dict(request.get("error") or {}))

    def saved_password(name: str) -> bool:
        return bool(by_name.get(name, {}).get("saved_password"))

    def on_server(_e: Any = None) -> None:
        conn = by_name.get(server_var.get(), {})
        if conn.get("login"):
            login_var.set(str(conn["login"]))
        saved_hint.configure(
            text=T("A saved password is used if you leave the field empty.")
            if saved_password(server_var.get())
            else ""
        )
        leaving = switching_from and server_var.get() != switching_from
        say(
            switch_hint,
            T("Signing in here ends your session on %(server)s.") % {"server": switching_from}
            if leaving
            else "",
        )

    server_box.bind("<<ComboboxSelected>>", on_server)
    on_server()
    if request.get("login"):
        login_var.set(str(request["login"]))

    def submit() -> None:
        if state["busy"]:
            return
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
        fingerprint = state["fingerprint"]
        if fingerprint and not trust_var.get():
            say(message, T("Tick “Trust this certificate” to connect, or cancel."))
            return
        fields = {
            "server": server_var.get(),
            "login": login,
            "password": password or None,
            "remember": remember_var.get() and not forbidden,
            "trust_fingerprint": fingerprint if trust_var.get() else None,
        }
        if not live:
            dlg.finish({"action": "login", **fields})
            return
        busy(True)
        say(message, "")
        saved_hint.configure(text=T("Signing in to %(server)s…") % {"server": server_var.get()})
        dlg.event("submit", **fields)

    def busy(on: bool) -> None:
        state["busy"] = on
        sign_in_btn.state(["disabled"] if on else ["!disabled"])

    def on_update(upd: Json) -> None:
        if "error" not in upd or (upd.get("present") and not upd.get("error")):
            return  # asked for again while open: the window came to the front
        busy(False)
        on_server()
        show_error(dict(upd.get("error") or {}))
        dlg.center()  # a fingerprint row makes it wider: keep it on the screen
        # A wrong password: the field is selected, so typing replaces it.
        password_entry.select_range(0, "end")
        password_entry.icursor("end")
        password_entry.focus_force()
        dlg.event("error_shown")  # what was typed from now on replaces the password

    dlg.on_update = on_update

    bar = dlg.buttons(
        10,
        [
            (
                T("Manage video surveillance servers…"),
                lambda: dlg.finish({"action": "manage_servers"}),
                False,
            ),
            (T("Cancel"), dlg.cancel, False),
            (T("Sign in"), submit, True),
        ],
    )
    sign_in_btn: ttk.Button = bar.winfo_children()[-1]  # type: ignore[assignment]
    f.columnconfigure(1, weight=1)
    dlg.root.bind("<Return>", lambda _e: submit())
    dlg.root.bind("<KP_Enter>", lambda _e: submit())
    focus = login_entry if not login_var.get() else password_entry
    dlg.show(focus=focus)
