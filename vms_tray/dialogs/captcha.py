"""Captcha dialog: the image, an answer field, "Refresh", and a countdown of its validity.

Request: ``{"server": "HQ", "image_png_b64": "...", "expires_in": 60, "error": "..."}``.
Updates (from the tray, while open): ``{"image_png_b64": "...", "expires_in": 60, "error": ...}``.
Events: ``{"event": "refresh", "expired": bool}`` when the user presses Refresh or the captcha
expired; ``{"event": "shown", "expires_in": s}`` when a picture is on screen.
Answers: ``{"action": "answer", "answer": "..."}``, ``{"action": "cancel"}``.
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

    state: dict[str, Any] = {"deadline": 0.0, "photo": None, "refreshing": False}

    def set_image(b64: str, expires_in: float) -> None:
        photo = tk.PhotoImage(data=b64, format="png")
        zoom = max(1, round(dlg.scale))
        if zoom > 1:
            photo = photo.zoom(zoom, zoom)
        state["photo"] = photo  # keep a reference: Tk images vanish when garbage-collected
        image_label.configure(image=photo)
        state["deadline"] = time.monotonic() + max(0.0, expires_in)
        state["refreshing"] = False
        refresh_btn.state(["!disabled"])
        answer_var.set("")
        entry.focus_set()
        dlg.event("shown", expires_in=expires_in)

    def refresh(auto: bool = False) -> None:
        if state["refreshing"]:
            return
        state["refreshing"] = True
        refresh_btn.state(["disabled"])
        countdown.configure(
            text=T("Expired — getting a new picture…") if auto else T("Getting a new picture…")
        )
        dlg.event("refresh", expired=auto)

    refresh_btn.configure(command=refresh)

    def tick() -> None:
        if dlg.answered:
            return
        if not state["refreshing"]:
            left = int(state["deadline"] - time.monotonic() + 0.999)
            if left <= 0:
                refresh(auto=True)
            else:
                countdown.configure(text=T("Valid for %(s)d s") % {"s": left})
        dlg.root.after(250, tick)

    def on_update(upd: Json) -> None:
        if upd.get("image_png_b64"):
            set_image(str(upd["image_png_b64"]), float(upd.get("expires_in") or 60))
        message.configure(text=str(upd.get("error") or ""))

    def submit() -> None:
        answer = answer_var.get().strip()
        if not answer:
            message.configure(text=T("Type the characters you see."))
            return
        if state["refreshing"]:
            message.configure(text=T("Wait for the new picture."))
            return
        dlg.finish({"action": "answer", "answer": answer})

    set_image(str(request.get("image_png_b64") or ""), float(request.get("expires_in") or 60))
    message.configure(text=str(request.get("error") or ""))
    dlg.on_update = on_update
    dlg.buttons(5, [(T("Cancel"), dlg.cancel, False), (T("Sign in"), submit, True)])
    f.columnconfigure(1, weight=1)
    dlg.root.bind("<Return>", lambda _e: submit())
    dlg.root.bind("<KP_Enter>", lambda _e: submit())
    dlg.root.bind("<F5>", lambda _e: refresh())
    tick()
    dlg.show(focus=entry)
