"""The tray menu as a popup, for tray backends without menus (pystray's Xorg backend).

Request: ``{"items": [menu entry json], "x": 100, "y": 20}`` where an entry is
``{"key", "text", "enabled", "checked", "radio", "separator", "children"}``.
Answer: ``{"action": "select", "key": "switch_server:HQ"}`` or ``{"action": "cancel"}``.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from typing import Any, Literal

from vms_tray.dialogs.common import Dialog, Json


def _fill(dlg: Dialog, menu: tk.Menu, items: list[Json], choose: Callable[[str], None]) -> None:
    radio_var = tk.StringVar(master=dlg.root)
    for item in items:
        if item.get("separator"):
            menu.add_separator()
            continue
        state: Literal["normal", "disabled"] = "normal" if item.get("enabled", True) else "disabled"
        text = str(item.get("text") or "")
        key = str(item.get("key") or "")
        if item.get("children"):
            sub = tk.Menu(menu, tearoff=False)
            _fill(dlg, sub, list(item["children"]), choose)
            menu.add_cascade(label=text, menu=sub, state=state)
        elif item.get("radio"):
            if item.get("checked"):
                radio_var.set(key)
            menu.add_radiobutton(
                label=text,
                value=key,
                variable=radio_var,
                state=state,
                command=_bind(choose, key),
            )
        elif item.get("checked") is not None:
            var = tk.BooleanVar(master=dlg.root, value=bool(item["checked"]))
            menu.add_checkbutton(
                label=text,
                variable=var,
                onvalue=True,
                offvalue=False,
                state=state,
                command=_bind(choose, key),
            )
            menu._vars = [*getattr(menu, "_vars", []), var]  # type: ignore[attr-defined]
        else:
            menu.add_command(label=text, state=state, command=_bind(choose, key))
    menu._radio = radio_var  # type: ignore[attr-defined]


def _bind(choose: Callable[[str], None], key: str) -> Callable[[], None]:
    return lambda: choose(key)


def _coord(value: Any, fallback: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return fallback


def run(request: Json, dlg: Dialog) -> None:
    root = dlg.root
    root.overrideredirect(True)
    menu = tk.Menu(root, tearoff=False)

    def choose(key: str) -> None:
        dlg.finish({"action": "select", "key": key})

    _fill(dlg, menu, list(request.get("items") or []), choose)
    x = _coord(request.get("x"), root.winfo_pointerx())
    y = _coord(request.get("y"), root.winfo_pointery())
    # The (invisible) root sits under the menu, not in a screen corner.
    root.geometry(f"1x1+{x}+{y}")

    def dismissed(_e: Any = None) -> None:
        # The menu unmaps before its command runs: give the command a moment to answer first.
        root.after(150, lambda: dlg.finish({"action": "cancel"}))

    menu.bind("<Unmap>", dismissed)
    root.deiconify()
    root.after(10, lambda: menu.tk_popup(x, y))
    root.mainloop()
    if not dlg.answered:
        dlg.answered = True
        dlg.emit({"action": "cancel"})
