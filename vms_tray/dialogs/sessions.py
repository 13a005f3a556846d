"""User Sessions: who holds the account's seats, and ending one (or waiting for one to free).

Request::

    {"server": "HQ", "conflict": true, "max": 5, "active": 5, "max_as_of": null,
     "now": "2026-...Z",
     "sessions": [{"id", "device", "software", "version", "address", "started_at",
                   "last_activity", "idle", "current"}]}

``conflict`` is true when sign-in is blocked by the limit: then "Wait" is offered, and with
``handover`` (protocol v1.1) "Ask to hand over" for active sessions. Entries may carry
``ends_by_itself_at`` and ``handover``; ``next_free_at`` is the soonest expected free seat.
Updates: ``{"sessions": [...], "max", "active", "now", "error"}`` (a refreshed list).
Answers: ``{"action": "end", "session_id"}``, ``{"action": "handover", "session_id"}``,
``{"action": "wait"}``, ``{"action": "cancel"}``.
"""

from __future__ import annotations

import tkinter as tk
import tkinter.font as tkfont
from datetime import UTC, datetime
from tkinter import ttk
from typing import Any

from vms_tray.dialogs.common import Dialog, Json, T
from vms_tray.i18n import ngettext
from vms_tray.text import ago, limit_as_of, parse_time, recommended

# The recommendation and the "5 min ago" wording are the CLI's too ('vms-tray sessions'),
# which must not import Tk: they live on the ground floor (vms_tray.text).


def order(sessions: list[Json]) -> list[Json]:
    """Newest first, so the earliest session sits at the bottom of the table. Times are to the
    second: sessions started within one keep the server's order (oldest first), reversed too,
    so the table reads the same whether two sign-ins straddled a second or not."""
    ranked = sorted(
        enumerate(sessions),
        key=lambda pair: (parse_time(pair[1].get("started_at")), pair[0]),
        reverse=True,
    )
    return [s for _, s in ranked]


def countdown(ts: Any, now: datetime) -> str | None:
    """``"3:12"`` until ``ts``, None when there is no such time (or it has passed)."""
    if not ts:
        return None
    seconds = int((parse_time(ts) - now).total_seconds())
    if seconds <= 0:
        return None
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours >= 24:
        return None  # a countdown of days reads worse than the time itself (``entry_marks``)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def entry_marks(s: Json, now: datetime, recommended_id: str | None) -> list[str]:
    """The marks column: this device, the recommendation, idle, a handover under way."""
    marks = []
    if s.get("current"):
        marks.append(T("this device"))
    if str(s.get("id")) == recommended_id:
        marks.append(T("★ recommended"))
    if s.get("idle"):
        marks.append(T("idle"))
    if left := _handover_left(s, now):
        marks.append(T("handing over: ends in %(t)s") % {"t": left})
    return marks


def ends_by_itself(s: Json, now: datetime) -> str:
    """The "Ends unless used" column: when the server ends the session by itself if nobody uses
    it (a countdown, or the time when that is a day or more away); empty while it is handed
    over (the marks count that down) or when the server does not say. In a column of its own
    with the condition in its heading: as one more mark ("ends by itself in 14:58 unless used")
    it made the marks too wide for a 1024-pixel screen."""
    at = s.get("ends_by_itself_at")
    if not at or _handover_left(s, now):
        return ""
    if left := countdown(at, now):
        return T("in %(t)s") % {"t": left}
    if parse_time(at) > now:
        return T("at %(t)s") % {"t": local_time(at)}
    return ""


# Which column gives way first when the screen is too narrow for every cell: a device name cut
# short still tells sessions apart (the address column too); the marks and the countdown are
# what the choice rests on, so they give way last.
GIVES_WAY = ("device", "software", "address", "activity", "started", "ends", "marks")


def column_widths(
    now: dict[str, int], needed: dict[str, int], floor: dict[str, int], room: int
) -> dict[str, int]:
    """Each column as wide as its longest cell (``needed``) and no narrower than it is
    (``now``: a ticking countdown must not make the table jump); where all that is wider than
    ``room`` (the screen, less the window's frame), the columns of GIVES_WAY give way in turn,
    each down to ``floor``."""
    want = {col: max(now[col], needed[col]) for col in now}
    over = sum(want.values()) - room
    for col in (c for c in GIVES_WAY if c in want):
        if over <= 0:
            break
        give = min(over, want[col] - min(floor[col], want[col]))
        want[col] -= give
        over -= give
    return want


def _handover_left(s: Json, now: datetime) -> str | None:
    handover = s.get("handover")
    return countdown(handover.get("deadline"), now) if isinstance(handover, dict) else None


def local_time(ts: Any) -> str:
    if not ts:
        return T("unknown")  # the server does not say
    return parse_time(ts).astimezone().strftime("%Y-%m-%d %H:%M")


def run(request: Json, dlg: Dialog) -> None:
    f = dlg.frame
    px = dlg.px
    dlg.root.title(T("User sessions — vms-tray"))
    conflict = bool(request.get("conflict"))
    handover = conflict and bool(request.get("handover"))
    server = str(request.get("server") or "")

    headline = ttk.Label(f, text="", font="VmsTrayBold")
    headline.grid(row=0, column=0, columnspan=3, sticky="w")
    advice = ttk.Label(f, text="", wraplength=px(640))
    advice.grid(row=1, column=0, columnspan=3, sticky="w", pady=(px(4), px(8)))

    # The address tells two sessions of one kind of device apart (AIPIX lists a session's ip).
    columns = ("device", "software", "address", "started", "activity", "ends", "marks")
    tree = ttk.Treeview(f, columns=columns, show="headings", selectmode="browse", height=7)
    headings = {
        "device": T("Device"),
        "software": T("Software"),
        "address": T("Address"),
        "started": T("Started"),
        "activity": T("Last activity"),
        "ends": T("Ends unless used"),
        "marks": "",
    }
    widths = {
        "device": 140,
        "software": 130,
        "address": 110,
        "started": 130,
        "activity": 110,
        "ends": 90,
        "marks": 160,
    }
    for col in columns:
        tree.heading(col, text=headings[col], anchor="w")
        tree.column(col, width=px(widths[col]), anchor="w", stretch=col == "device")
    tree.grid(row=2, column=0, columnspan=3, sticky="nsew")
    sb = ttk.Scrollbar(f, orient="vertical", command=tree.yview)
    sb.grid(row=2, column=3, sticky="ns")
    tree.configure(yscrollcommand=sb.set)
    tree.tag_configure("current", foreground="#555555")
    tree.tag_configure("recommended", background="#fff3cd")

    message = ttk.Label(f, text="", style="Error.TLabel", wraplength=px(640))
    message.grid(row=3, column=0, columnspan=3, sticky="w", pady=(px(4), 0))

    data: dict[str, Any] = {"sessions": [], "listed": [], "by_id": {}}
    # Treeview rows are drawn in TkDefaultFont (ttk's default theme, scaled in common.Dialog).
    row_font = tkfont.nametofont("TkDefaultFont", root=dlg.root)
    heading_font = tkfont.nametofont("TkHeadingFont", root=dlg.root)

    def fit_columns(rows: list[tuple[str, ...]]) -> None:
        # Cells grow with what a server sends (AIPIX's "Chrome on Windows 10") and the marks
        # with the state ("this device, ★ recommended, idle", longer in Russian); they were cut
        # off at fixed widths. See column_widths.
        dlg.root.update_idletasks()  # the window's requested width as it stands
        now = {col: int(tree.column(col, "width")) for col in columns}
        frame = dlg.root.winfo_reqwidth() - sum(now.values())
        needed = {
            col: max([heading_font.measure(headings[col])] + [row_font.measure(r[i]) for r in rows])
            + px(16)
            for i, col in enumerate(columns)
        }
        # where the screen is too narrow, a column may give way to its own cells' width
        floor = {col: min(px(width), needed[col]) for col, width in widths.items()}
        room = dlg.root.winfo_screenwidth() - frame
        for col, width in column_widths(now, needed, floor, room).items():
            tree.column(col, width=width)

    def fill(req: Json) -> None:
        # The recommendation reads the server's order (oldest first), which breaks its ties
        # (times to the second) the same way 'vms-tray sessions' does; the table is newest first.
        listed = list(req.get("sessions") or [])
        sessions = order(listed)
        now = parse_time(req["now"]) if req.get("now") else datetime.now(UTC)
        data["sessions"], data["listed"] = sessions, listed
        data["by_id"] = {str(s["id"]): s for s in sessions}
        raw_active = req.get("active")
        active = int(raw_active) if raw_active is not None else len(sessions)
        maximum = req.get("max")
        if maximum is None:
            headline.configure(
                text=ngettext("%(n)d session in use", "%(n)d sessions in use", active)
                % {"n": active}
            )
        elif req.get("max_as_of"):
            # A limit learnt earlier (AIPIX states it only in a 419): it may be stale.
            headline.configure(text=limit_as_of(active, int(maximum), str(req["max_as_of"])))
        else:
            headline.configure(
                text=ngettext(
                    "%(n)d of %(max)d session in use", "%(n)d of %(max)d sessions in use", maximum
                )
                % {"n": active, "max": int(maximum)}
            )
        rec = recommended(listed)
        tree.delete(*tree.get_children())
        rows: list[tuple[str, ...]] = []
        for s in sessions:
            marks = entry_marks(s, now, rec)
            tags = []
            if s.get("current"):
                tags.append("current")
            if str(s["id"]) == rec:
                tags.append("recommended")
            software = " ".join(str(x) for x in (s.get("software"), s.get("version")) if x)
            row = (
                str(s.get("device") or "?"),
                software,
                str(s.get("address") or T("unknown")),
                local_time(s.get("started_at")),
                ago(s.get("last_activity"), now),
                ends_by_itself(s, now),
                ", ".join(marks),
            )
            rows.append(row)
            tree.insert("", "end", iid=str(s["id"]), values=row, tags=tags)
        text = (
            T("End idle sessions first, then the oldest: the marked one is the best candidate.")
            if rec is not None
            else T("End idle sessions first, then the oldest.")
        )
        if handover:
            text = T(
                "Ask an active session to hand over: its user is warned and gets time to save "
                "their work. An idle one can be ended now."
            )
        if conflict:
            soon = countdown(req.get("next_free_at"), now)
            if soon:
                text += " " + T("A seat is expected to free itself in %(t)s.") % {"t": soon}
            text = (
                T(
                    "All sessions on %(server)s are in use. End one to sign in, or wait until one "
                    "frees up."
                )
                % {"server": server}
                + " "
                + text
            )
        fit_columns(rows)
        advice.configure(text=text)
        message.configure(text=str(req.get("error") or ""))
        if rec is not None:
            tree.selection_set(rec)
            tree.focus(rec)
            tree.see(rec)
        update_buttons()

    def selected() -> Json | None:
        sel = tree.selection()
        return data["by_id"].get(sel[0]) if sel else None

    def end_session() -> None:
        s = selected()
        if s is None:
            message.configure(text=T("Select a session to end."))
            return
        if s.get("current"):
            message.configure(text=T("This is this device's session: use Sign out instead."))
            return
        if confirm_end(str(s.get("device") or "?")):
            dlg.finish({"action": "end", "session_id": str(s["id"])})
        else:
            tree.focus_set()

    def confirm_end(device: str) -> bool:
        """Buttons that say what they do ("End OPS-PC-12's session" / "Keep it"), not OK."""
        top = tk.Toplevel(dlg.root)
        top.title(T("End session?"))
        top.transient(dlg.root)
        top.resizable(False, False)
        box = ttk.Frame(top, padding=px(14))
        box.grid(sticky="nsew")
        ttk.Label(
            box,
            text=T(
                "End the session on %(device)s? Whoever uses it is signed out and may lose "
                "unsaved data."
            )
            % {"device": device},
            wraplength=px(340),
        ).grid(row=0, column=0, columnspan=2, sticky="w", pady=(0, px(12)))
        chosen = {"end": False}

        def choose(end: bool) -> None:
            chosen["end"] = end
            top.destroy()

        keep = ttk.Button(box, text=T("Keep it"), command=lambda: choose(False))
        end = ttk.Button(
            box,
            text=T("End %(device)s's session") % {"device": device},
            command=lambda: choose(True),
            default="active",
        )
        keep.grid(row=1, column=0, sticky="e", padx=(0, px(6)))
        end.grid(row=1, column=1, sticky="e")
        box.columnconfigure(0, weight=1)
        for seq in ("<Return>", "<KP_Enter>"):  # Enter answers the focused button
            keep.bind(seq, lambda _e: choose(False))
            end.bind(seq, lambda _e: choose(True))
        top.bind("<Escape>", lambda _e: choose(False))
        top.protocol("WM_DELETE_WINDOW", lambda: choose(False))
        top.update_idletasks()
        x = dlg.root.winfo_rootx() + (dlg.root.winfo_width() - top.winfo_reqwidth()) // 2
        y = dlg.root.winfo_rooty() + (dlg.root.winfo_height() - top.winfo_reqheight()) // 3
        top.geometry(f"+{max(0, x)}+{max(0, y)}")
        top.grab_set()
        end.focus_force()
        dlg.root.wait_window(top)
        return chosen["end"]

    def ask_handover() -> None:
        s = selected()
        if s is None or s.get("current"):
            message.configure(text=T("Select another device's session to ask."))
            return
        if s.get("idle"):
            message.configure(text=T("An idle session has nobody to warn: end it now instead."))
            return
        dlg.finish({"action": "handover", "session_id": str(s["id"])})

    end_btn: ttk.Button | None = None
    ask_btn: ttk.Button | None = None

    def update_buttons(_e: Any = None) -> None:
        s = selected()
        other = bool(s) and not (s or {}).get("current")
        if end_btn is not None:
            end_btn.state(["!disabled"] if other else ["disabled"])
        if ask_btn is not None:
            # An idle session has nobody to warn: it is ended, not asked.
            active = other and not (s or {}).get("idle") and not (s or {}).get("handover")
            ask_btn.state(["!disabled"] if active else ["disabled"])

    specs = [(T("Close") if not conflict else T("Cancel"), dlg.cancel, False)]
    if conflict:
        specs.append((T("Wait for a free session"), lambda: dlg.finish({"action": "wait"}), False))
    if handover:
        specs.append((T("Ask to hand over"), ask_handover, False))
    specs.append((T("End now…") if handover else T("End session…"), end_session, True))
    bar = dlg.buttons(4, specs)
    end_btn = bar.grid_slaves(row=0, column=len(specs) - 1)[0]  # type: ignore[assignment]
    if handover:
        ask_btn = bar.grid_slaves(row=0, column=len(specs) - 2)[0]  # type: ignore[assignment]
        dlg.root.bind("<Alt-a>", lambda _e: ask_handover())
    if conflict:
        dlg.root.bind("<Alt-w>", lambda _e: dlg.finish({"action": "wait"}))
    dlg.root.bind("<Alt-e>", lambda _e: end_session())
    tree.bind("<<TreeviewSelect>>", update_buttons)
    tree.bind("<Return>", lambda _e: end_session())
    tree.bind("<Delete>", lambda _e: end_session())
    f.columnconfigure(0, weight=1)
    f.rowconfigure(2, weight=1)

    def tick() -> None:
        """Countdowns run while the window is open: only the marks change, not the choice."""
        now = datetime.now(UTC)
        rec = recommended(data["listed"])
        for s in data["sessions"]:
            if tree.exists(str(s["id"])):
                tree.set(str(s["id"]), "ends", ends_by_itself(s, now))
                tree.set(str(s["id"]), "marks", ", ".join(entry_marks(s, now, rec)))
        dlg.root.after(1000, tick)

    def on_update(upd: Json) -> None:
        fill({**request, **upd})

    dlg.on_update = on_update
    fill(request)
    dlg.root.after(1000, tick)
    dlg.show(focus=tree)
