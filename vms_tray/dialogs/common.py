"""What every dialog shares: Tk setup (scaling, named fonts), the JSON line protocol, layout.

Protocol of a dialog child process (``python -m vms_tray.dialogs NAME``):

- stdin, first line: the request (a JSON object). Later lines: ``{"update": {...}}`` objects the
  dialog may apply while it is open (a new captcha image, a refreshed session list).
- stdout: zero or more ``{"event": ...}`` lines (e.g. the captcha asks for a refresh), then one
  line with the answer object, then the process exits. Secrets (the password) only ever travel in
  this pipe: never in argv, a file, or the log.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import subprocess
import sys
import threading
import tkinter as tk
import tkinter.font as tkfont
from collections.abc import Callable
from tkinter import ttk
from typing import Any, TextIO

from vms_tray import i18n

log = logging.getLogger(__name__)

Json = dict[str, Any]
BASE_DPI = 96.0
BASE_POINTS = 10
# Tk's named fonts; on X11 they default to pixel sizes, which do not follow scaling.
_NAMED_FONTS = (
    "TkDefaultFont",
    "TkTextFont",
    "TkFixedFont",
    "TkMenuFont",
    "TkHeadingFont",
    "TkCaptionFont",
    "TkSmallCaptionFont",
    "TkIconFont",
    "TkTooltipFont",
)


def _xft_dpi() -> float | None:
    xrdb = shutil.which("xrdb")
    if not xrdb or not os.environ.get("DISPLAY"):
        return None
    try:
        out = subprocess.run(
            [xrdb, "-query"], capture_output=True, text=True, timeout=2, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        key, _sep, value = line.partition(":")
        if key.strip() == "Xft.dpi":
            try:
                return float(value.strip())
            except ValueError:
                return None
    return None


def scale_factor(env: dict[str, str] | None = None, xft_dpi: float | None = None) -> float:
    """``VMS_TRAY_SCALE`` (e.g. 2 for 200 %), else Xft.dpi / 96, else 1."""
    env = dict(os.environ) if env is None else env
    raw = env.get("VMS_TRAY_SCALE")
    if raw:
        try:
            value = float(raw)
            if 0.5 <= value <= 4:
                return value
        except ValueError:
            pass
        log.warning("VMS_TRAY_SCALE=%s is not a number between 0.5 and 4; ignoring it", raw)
    dpi = xft_dpi if xft_dpi is not None else _xft_dpi()
    if dpi and dpi > 0:
        return max(0.5, min(4.0, dpi / BASE_DPI))
    return 1.0


class Dialog:
    """A Tk root prepared for one dialog: scaled fonts, ttk theme, Esc/Enter, the answer channel."""

    def __init__(self, name: str, title: str, *, out: TextIO | None = None) -> None:
        self.name = name
        self.out = out or sys.stdout
        self.scale = scale_factor()
        self.root = tk.Tk(className="vms-tray")
        self.root.withdraw()
        self.root.title(title)
        # Points, not pixels: with tk scaling = dpi/72, every named font grows with the screen.
        self.root.tk.call("tk", "scaling", BASE_DPI * self.scale / 72.0)
        for fname in _NAMED_FONTS:
            try:
                f = tkfont.nametofont(fname, root=self.root)
            except tk.TclError:
                continue
            size = BASE_POINTS - 1 if fname in ("TkSmallCaptionFont", "TkTooltipFont") else None
            f.configure(size=size or BASE_POINTS)
        tkfont.nametofont("TkHeadingFont", root=self.root).configure(weight="bold")
        self.bold = tkfont.Font(root=self.root, name="VmsTrayBold", exists=False)
        base = tkfont.nametofont("TkDefaultFont", root=self.root).actual()
        self.bold.configure(family=base["family"], size=base["size"], weight="bold")
        style = ttk.Style(self.root)
        if "clam" in style.theme_names():
            style.theme_use("clam")
        style.configure("Error.TLabel", foreground="#b00020")
        style.configure("Hint.TLabel", foreground="#555555")
        style.configure("Treeview", rowheight=self.px(22))
        # Theme elements drawn in pixels (check marks, arrows) must grow with the fonts.
        style.configure("TCheckbutton", indicatorsize=self.px(12))
        style.configure("TRadiobutton", indicatorsize=self.px(12))
        style.configure("TCombobox", arrowsize=self.px(14))
        style.configure("TScrollbar", arrowsize=self.px(14))
        self.answered = False
        self._updates: queue.Queue[Json] = queue.Queue()
        self.on_update: Callable[[Json], None] | None = None
        self.root.protocol("WM_DELETE_WINDOW", self.cancel)
        self.root.bind("<Escape>", lambda _e: self.cancel())
        self.frame = ttk.Frame(self.root, padding=self.px(12))
        self.frame.grid(row=0, column=0, sticky="nsew")
        self.root.columnconfigure(0, weight=1)
        self.root.rowconfigure(0, weight=1)

    def px(self, n: float) -> int:
        """A distance in 96-dpi pixels, scaled."""
        return max(1, round(n * self.scale))

    # --- answer / events ------------------------------------------------------------------------

    def emit(self, obj: Json) -> None:
        self.out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self.out.flush()

    def event(self, name: str, **data: Any) -> None:
        self.emit({"event": name, **data})

    def finish(self, answer: Json) -> None:
        if self.answered:
            return
        self.answered = True
        self.emit(answer)
        self.root.after_idle(self.root.destroy)

    def cancel(self) -> None:
        self.finish({"action": "cancel"})

    # --- updates from the parent ------------------------------------------------------------------

    def listen(self, stream: TextIO) -> None:
        """Read ``{"update": ...}`` lines in a thread; apply them on the Tk thread."""

        def reader() -> None:
            for line in stream:
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if isinstance(msg, dict) and isinstance(msg.get("update"), dict):
                    self._updates.put(msg["update"])
            # stdin closed: the parent is gone or wants us gone.
            self._updates.put({"__eof__": True})

        threading.Thread(target=reader, name="dialog-stdin", daemon=True).start()
        self.root.after(100, self._poll_updates)

    def _poll_updates(self) -> None:
        try:
            while True:
                upd = self._updates.get_nowait()
                if upd.get("__eof__"):
                    if not self.answered:
                        self.cancel()
                    return
                if upd.get("close"):
                    self.cancel()
                    return
                if upd.get("present"):
                    self.present()  # asked for again (a click on the tray icon)
                if self.on_update is not None:
                    self.on_update(upd)
        except queue.Empty:
            pass
        if not self.answered:
            self.root.after(100, self._poll_updates)

    # --- showing ----------------------------------------------------------------------------

    def center(self) -> None:
        """Place the window in the middle of the screen at the size its content asks for
        (again after it grew: a certificate's fingerprint row must not run off the screen)."""
        self.root.update_idletasks()
        w, h = self.root.winfo_reqwidth(), self.root.winfo_reqheight()
        sw, sh = self.root.winfo_screenwidth(), self.root.winfo_screenheight()
        self.root.geometry(f"+{max(0, (sw - w) // 2)}+{max(0, (sh - h) // 3)}")
        self.root.minsize(w, h)

    def show(self, focus: tk.Widget | None = None) -> None:
        self.center()
        self.root.deiconify()
        self.root.lift()
        self.root.attributes("-topmost", True)
        self.root.after(300, lambda: self.root.attributes("-topmost", False))
        if focus is not None:
            focus.focus_force()
        self.root.mainloop()
        if not self.answered:
            self.answered = True
            self.emit({"action": "cancel"})

    def present(self) -> None:
        """Bring the open window to the front (it may be behind others or minimised)."""
        self.root.deiconify()
        self.root.lift()
        self.root.attributes("-topmost", True)
        self.root.after(300, lambda: self.root.attributes("-topmost", False))
        self.root.focus_force()

    def buttons(self, row: int, specs: list[tuple[str, Callable[[], None], bool]]) -> ttk.Frame:
        """A right-aligned button row; the spec with ``True`` is the default (Enter)."""
        bar = ttk.Frame(self.frame)
        bar.grid(row=row, column=0, columnspan=4, sticky="e", pady=(self.px(12), 0))
        for i, (text, cmd, default) in enumerate(specs):
            b = ttk.Button(bar, text=text, command=cmd, default="active" if default else "normal")
            b.grid(row=0, column=i, padx=(self.px(6), 0))
            # A focused button answers Enter itself; "break" keeps the dialog-wide Enter away.
            for seq in ("<Return>", "<KP_Enter>"):
                b.bind(seq, lambda _e, c=cmd: _run_and_break(c))
        return bar


def _run_and_break(cmd: Callable[[], None]) -> str:
    cmd()
    return "break"


def T(message: str) -> str:
    """Translate (dialogs import this; the catalog is chosen once per child process)."""
    return i18n._(message)
