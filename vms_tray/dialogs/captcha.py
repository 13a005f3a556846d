"""Captcha dialog: the image, an answer field, "Refresh", and a countdown of its validity.

Request: ``{"server": "HQ", "image_png_b64": "...", "expires_in": 60, "error": "..."}``.
Updates (from the tray, while open): ``{"image_png_b64": "...", "expires_in": 60, "error": ...}``.
Events: ``{"event": "refresh", "expired": bool}`` when the user presses Refresh or the captcha
expired; ``{"event": "shown", "expires_in": s}`` when a picture is on screen.
Answers: ``{"action": "answer", "answer": "..."}``, ``{"action": "cancel"}``.

With ``"live": true`` (the tray) "Sign in" keeps the dialog open: it sends ``{"event": "answer",
"answer": "..."}`` and waits; the tray closes it or sends a new picture with the reason
(``error``: wrong characters, expired). ``{"refresh_failed": true, "error": "..."}`` says that no
new picture came: Refresh works again. The dialog also gives up waiting by itself after
``refresh_timeout`` seconds (default 20), so a lost answer never leaves it greyed out.
"""

from __future__ import annotations

import time
import tkinter as tk
from tkinter import ttk
from typing import Any

from vms_tray.dialogs.common import Dialog, Json, T


def run(request: Json, dlg: Dialog) -> None:
    f = dlg.frame
    px = dlg.px
    dlg.root.title(T("Captcha — vms-tray"))
    server = str(request.get("server") or "")
    ttk.Label(
        f,
        text=T("%(server)s asks you to type the characters in the picture.") % {"server": server},
        wraplength=px(360),
    ).grid(row=0, column=0, columnspan=3, sticky="w", pady=(0, px(8)))

    image_label = ttk.Label(f, anchor="center", relief="sunken")
    image_label.grid(row=1, column=0, columnspan=3, sticky="ew", pady=px(4))
    countdown = ttk.Label(f, text="", style="Hint.TLabel")
    countdown.grid(row=2, column=0, columnspan=2, sticky="w")
    refresh_btn = ttk.Button(f, text=T("Refresh"))
    refresh_btn.grid(row=2, column=2, sticky="e")

    ttk.Label(f, text=T("Answer:")).grid(row=3, column=0, sticky="w", pady=px(6))
    answer_var = tk.StringVar()
    entry = ttk.Entry(f, textvariable=answer_var, width=20)
    entry.grid(row=3, column=1, columnspan=2, sticky="ew", pady=px(6))
    message = ttk.Label(f, text="", style="Error.TLabel", wraplength=px(360))
    message.grid(row=4, column=0, columnspan=3, sticky="w")

    live = bool(request.get("live"))
    refresh_timeout = float(request.get("refresh_timeout") or 20)
    state: dict[str, Any] = {
        "deadline": 0.0,
        "photo": None,
        "refreshing": False,
        "asked": 0,  # counts Refresh presses, so a stale watchdog does nothing
        "busy": False,
    }

    def set_image(b64: str, expires_in: float) -> None:
        photo = tk.PhotoImage(data=b64, format="png")
        zoom = max(1, round(dlg.scale))
        if zoom > 1:
            photo = photo.zoom(zoom, zoom)
        state["photo"] = photo  # keep a reference: Tk images vanish when garbage-collected
        image_label.configure(image=photo)
        state["deadline"] = time.monotonic() + max(0.0, expires_in)
        refreshing(False)
        busy(False)
        if expires_in > 0:  # at once, not at the next tick: "Checking…" is over
            countdown.configure(text=T("Valid for %(s)d s") % {"s": int(expires_in + 0.999)})
        answer_var.set("")
        entry.focus_set()
        dlg.event("shown", expires_in=expires_in)

    def refreshing(on: bool) -> None:
        state["refreshing"] = on
        refresh_btn.state(["disabled"] if on else ["!disabled"])

    def busy(on: bool) -> None:
        state["busy"] = on
        sign_in_btn.state(["disabled"] if on else ["!disabled"])

    def refresh(auto: bool = False) -> None:
        if state["refreshing"]:
            return
        refreshing(True)
        state["asked"] += 1
        asked = state["asked"]
        countdown.configure(
            text=T("Expired — getting a new picture…") if auto else T("Getting a new picture…")
        )
        dlg.event("refresh", expired=auto)
        dlg.root.after(int(refresh_timeout * 1000), lambda: refresh_overdue(asked))

    def refresh_overdue(asked: int) -> None:
        if state["refreshing"] and state["asked"] == asked and not dlg.answered:
            refresh_failed(
                T("No new picture came within %(s)d s: check the network, then Refresh.")
                % {"s": round(refresh_timeout)}
            )

    def refresh_failed(error: str) -> None:
        refreshing(False)
        state["deadline"] = 0.0  # the old picture is no good: no countdown, no auto refresh
        countdown.configure(text=T("No new picture"))
        message.configure(text=error)

    refresh_btn.configure(command=refresh)

    def tick() -> None:
        if dlg.answered:
            return
        if not state["refreshing"] and not state["busy"] and state["deadline"]:
            left = int(state["deadline"] - time.monotonic() + 0.999)
            if left <= 0:
                refresh(auto=True)
            else:
                countdown.configure(text=T("Valid for %(s)d s") % {"s": left})
        dlg.root.after(250, tick)

    def on_update(upd: Json) -> None:
        if upd.get("refresh_failed"):
            refresh_failed(str(upd.get("error") or T("No new picture came.")))
            return
        if upd.get("image_png_b64"):
            set_image(str(upd["image_png_b64"]), _seconds(upd.get("expires_in")))
        if "error" in upd:
            message.configure(text=str(upd.get("error") or ""))

    def submit() -> None:
        answer = answer_var.get().strip()
        if not answer:
            message.configure(text=T("Type the characters you see."))
            return
        if state["refreshing"]:
            message.configure(text=T("Wait for the new picture."))
            return
        if state["busy"]:
            return
        if not live:
            dlg.finish({"action": "answer", "answer": answer})
            return
        busy(True)
        message.configure(text="")
        countdown.configure(text=T("Checking…"))
        dlg.event("answer", answer=answer)

    bar = dlg.buttons(5, [(T("Cancel"), dlg.cancel, False), (T("Sign in"), submit, True)])
    sign_in_btn: ttk.Button = bar.winfo_children()[-1]  # type: ignore[assignment]
    # The countdown starts from what the daemon says is left (0: already expired, so the
    # dialog asks for a new picture at once instead of counting a dead one down).
    set_image(str(request.get("image_png_b64") or ""), _seconds(request.get("expires_in")))
    message.configure(text=str(request.get("error") or ""))
    dlg.on_update = on_update
    f.columnconfigure(1, weight=1)
    dlg.root.bind("<Return>", lambda _e: submit())
    dlg.root.bind("<KP_Enter>", lambda _e: submit())
    dlg.root.bind("<F5>", lambda _e: refresh())
    tick()
    dlg.show(focus=entry)


def _seconds(value: Any) -> float:
    """A validity in seconds; missing means the protocol's one minute, 0 means expired."""
    return 60.0 if value is None else max(0.0, float(value))
