"""About / status: version, the current state in words, where the log is.

Request: ``{"version": "0.1.0", "status": "Signed in to HQ as op", "details": ["..."],
"log_dir": "/path"}``. Answer: ``{"action": "close"}``.
"""

from __future__ import annotations

from tkinter import ttk

from vms_tray.dialogs.common import Dialog, Json, T


def run(request: Json, dlg: Dialog) -> None:
    f = dlg.frame
    px = dlg.px
    dlg.root.title(T("About vms-tray"))
    ttk.Label(f, text=f"vms-tray {request.get('version') or ''}", font="VmsTrayBold").grid(
        row=0, column=0, sticky="w"
    )
    ttk.Label(
        f,
        text=T("A system-tray companion for video surveillance servers."),
        wraplength=px(380),
    ).grid(row=1, column=0, sticky="w", pady=(px(2), px(8)))
    row = 2
    if request.get("status"):
        ttk.Label(f, text=str(request["status"]), font="VmsTrayBold", wraplength=px(380)).grid(
            row=row, column=0, sticky="w"
        )
        row += 1
    for line in request.get("details") or []:
        ttk.Label(f, text=str(line), wraplength=px(380)).grid(row=row, column=0, sticky="w")
        row += 1
    if request.get("log_dir"):
        ttk.Label(
            f, text=T("Log folder: %(path)s") % {"path": request["log_dir"]}, style="Hint.TLabel"
        ).grid(row=row, column=0, sticky="w", pady=(px(8), 0))
        row += 1

    def close() -> None:
        dlg.finish({"action": "close"})

    dlg.buttons(row, [(T("Close"), close, True)])
    dlg.root.bind("<Return>", lambda _e: close())
    dlg.show()
