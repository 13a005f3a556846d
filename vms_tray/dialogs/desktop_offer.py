"""The first start's question: put a vms-tray launcher on the desktop?

Request: ``{"folder": "/home/anna/Desktop", "command": "vms-tray desktop-launcher add"}``.
Answer: ``{"action": "add"}`` or ``{"action": "not_now"}``; Esc and the window's close button
are "Not now" too (the user saw the question and put it away). Only a dialog the tray closes
(it quit) answers ``cancel``, and the question is asked again at the next start.
"""

from __future__ import annotations

from tkinter import ttk

from vms_tray.dialogs.common import Dialog, Json, T


def run(request: Json, dlg: Dialog) -> None:
    f = dlg.frame
    px = dlg.px
    dlg.root.title(T("vms-tray launcher"))
    ttk.Label(f, text=T("Put a vms-tray launcher on your desktop?"), font="VmsTrayBold").grid(
        row=0, column=0, sticky="w"
    )
    ttk.Label(
        f,
        text=T("Double-click it to start vms-tray, or to bring it forward when it runs."),
        wraplength=px(380),
    ).grid(row=1, column=0, sticky="w", pady=(px(4), 0))
    row = 2
    if request.get("folder"):
        ttk.Label(
            f,
            text=T("It goes into %(folder)s.") % {"folder": request["folder"]},
            wraplength=px(380),
        ).grid(row=row, column=0, sticky="w", pady=(px(2), 0))
        row += 1
    if request.get("command"):
        ttk.Label(
            f,
            text=T("This is asked once. Later: %(command)s") % {"command": request["command"]},
            style="Hint.TLabel",
            wraplength=px(380),
        ).grid(row=row, column=0, sticky="w", pady=(px(8), 0))
        row += 1

    def add() -> None:
        dlg.finish({"action": "add"})

    def not_now() -> None:
        dlg.finish({"action": "not_now"})

    bar = dlg.buttons(row, [(T("Not now"), not_now, False), (T("Add to desktop"), add, True)])
    dlg.root.protocol("WM_DELETE_WINDOW", not_now)
    dlg.root.bind("<Escape>", lambda _e: not_now())
    dlg.root.bind("<Return>", lambda _e: add())
    default = bar.winfo_children()[-1]  # "Add to desktop": Enter and Space answer it
    dlg.show(focus=default if isinstance(default, ttk.Button) else None)
