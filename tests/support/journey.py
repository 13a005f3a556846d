"""Walking the real app as a person does: the harness of ``tests/journeys``.

A :class:`Journey` starts ``vms-tray run`` (or ``vms-tray demo``) on the test desktop
(:func:`tests.support.components.x_desktop`) in a profile of its own: ``VMS_TRAY_PROFILE``,
``HOME`` and every ``XDG_*`` base directory in the test's tmp dir. It drives the app only with what
a person uses and reads only what a person sees::

    j = Journey.open("first-run", desktop, tmp_path)
    j.cli("servers", "add", "HQ", server.url, "--login", "anna", "--ca-file", cert)
    j.start()                                   # vms-tray run
    login = j.wait_dialog("^Sign in")           # a Tk window and its texts
    j.type_into(login, "pw", "Return")
    j.wait_state("signed_in")                   # vms-tray status --json
    j.menu("Start at login")                    # right click on the tray icon, keys down to it
    j.shot("signed-in")                         # artifacts/journeys/first-run/03-signed-in.png

Dialog text: Tk has no AT-SPI, so :func:`read_dialogs` asks each dialog's Tk interpreter with
Tk's own ``send`` (X11 property messages; Tk allows them because the test Xvfb runs with access
control on and no host list). A helper process walks the widget tree of every interpreter on the
display and reports each window's title, visible texts (labels, buttons, entries, table rows)
and where each widget is, so a test can also click a button by its label. A password field
(an entry with ``-show``) is reported as ``•••``, never its value.

Every wait polls with a deadline (:func:`tests.support.components.wait_until`); nothing sleeps
for a fixed time.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tests.support import components

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "journeys"
ICON = "^vms-tray"  # the tray icon's window is named by its tooltip
# The icons' discs and badges (the top-level icons/, tests/desktop/test_end_to_end.py).
AMBER = (0xE0, 0xA1, 0x00)  # signed in, one seat left
ORANGE = (0xE8, 0x59, 0x0C)  # signed in, all seats in use
GREEN = (0x1F, 0x9D, 0x55)  # signed in
GREY = (0x7D, 0x85, 0x90)  # no seat
RED = (0xD6, 0x28, 0x28)  # the no-entry badge: the limit blocks this sign-in

# --- reading Tk dialogs ---------------------------------------------------------------------------

# Defined in each dialog's interpreter (over ``send``), then called: one list per toplevel:
# {path title viewable xid {widget...}}, a widget being {path class text viewable x y w h enabled
# selected}. Table rows come as class "Row" (their values joined by " | ").
_TCL_READER = r"""
proc ::vmsJourneyWalk {w} {
    set out {}
    foreach c [winfo children $w] {
        set cls [winfo class $c]
        if {$cls eq "Toplevel" || $cls eq "Menu"} continue
        set text ""
        switch -- $cls {
            Entry - TEntry - TCombobox - TSpinbox {
                set show ""
                catch {set show [$c cget -show]}
                if {$show eq ""} {set text [$c get]} else {set text "\u2022\u2022\u2022"}
            }
            Text {set text [$c get 1.0 {end -1c}]}
            Listbox {set text [join [$c get 0 end] "\n"]}
            Treeview {}
            default {catch {set text [$c cget -text]}}
        }
        set enabled 1
        catch {if {[$c instate disabled]} {set enabled 0}}
        catch {if {[$c cget -state] eq "disabled"} {set enabled 0}}
        set sel 0
        catch {if {[$c instate selected]} {set sel 1}}
        set viewable [winfo viewable $c]
        lappend out [list $c $cls $text $viewable [winfo rootx $c] [winfo rooty $c] \
            [winfo width $c] [winfo height $c] $enabled $sel]
        if {$cls eq "Treeview"} {
            set chosen [$c selection]
            foreach i [$c children {}] {
                set box [$c bbox $i]
                if {$box eq ""} {set box {0 0 0 0}}
                lassign $box bx by bw bh
                lappend out [list $c.row:$i Row [join [$c item $i -values] " | "] $viewable \
                    [expr {[winfo rootx $c] + $bx}] [expr {[winfo rooty $c] + $by}] $bw $bh 1 \
                    [expr {[lsearch -exact $chosen $i] >= 0}]]
            }
        }
        foreach item [::vmsJourneyWalk $c] {lappend out $item}
    }
    return $out
}
proc ::vmsJourneyRead {} {
    set tops [list .]
    foreach c [winfo children .] {
        if {[winfo class $c] eq "Toplevel"} {lappend tops $c}
    }
    set out {}
    foreach t $tops {
        lappend out [list $t [wm title $t] [winfo viewable $t] [wm frame $t] \
            [::vmsJourneyWalk $t]]
    }
    return $out
}
"""

# Runs in a helper process, one JSON line per interpreter as soon as it answered. ``send`` waits
# for its answer with Tk's event loop running, so a timer can give up on an interpreter that does
# not answer (one that is busy or stuck): the line says so and the helper stops there.
_READER_SCRIPT = r"""
import json, os, sys, tkinter
root = tkinter.Tk()
root.withdraw()
me = root.tk.call("tk", "appname")
split = root.tk.splitlist
patience = int(float(sys.argv[2]) * 1000)
for name in split(root.tk.call("winfo", "interps")):
    if name == me:
        continue
    def stuck(name=name):
        print(json.dumps({"stuck": str(name)}), flush=True)
        os._exit(0)
    timer = root.after(patience, stuck)
    try:
        root.tk.call("send", "--", name, sys.argv[1])
        raw = root.tk.call("send", "--", name, "::vmsJourneyRead")
    except tkinter.TclError as exc:
        if "insecure" in str(exc):  # Tk refuses send on an X server open to other hosts
            sys.exit("Tk send refused: " + str(exc))
        continue  # not a dialog of ours, or it is closing
    finally:
        root.after_cancel(timer)
    for top in split(raw):
        path, title, viewable, frame, widgets = split(top)
        print(json.dumps({
            "interp": str(name), "path": str(path), "title": str(title),
            "viewable": str(viewable) == "1", "xid": str(int(str(frame), 16)),
            "widgets": [[str(v) for v in split(w)] for w in split(widgets)],
        }), flush=True)
"""

# Interpreters that did not answer the last read (a busy or stuck dialog), for error messages.
unanswered: list[str] = []


@dataclass(frozen=True)
class Widget:
    path: str
    cls: str
    text: str
    viewable: bool
    x: int
    y: int
    width: int
    height: int
    enabled: bool
    selected: bool

    @property
    def center(self) -> tuple[int, int]:
        return self.x + self.width // 2, self.y + self.height // 2


@dataclass(frozen=True)
class DialogWindow:
    """One Tk toplevel as a person sees it: its title and the texts of its visible widgets."""

    interp: str
    path: str
    title: str
    xid: str  # its X window (the toplevel's wrapper), for xdotool
    widgets: tuple[Widget, ...]

    @property
    def texts(self) -> list[str]:
        return [w.text for w in self.widgets if w.viewable and w.text]

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def rows(self) -> list[Widget]:
        return [w for w in self.widgets if w.cls == "Row" and w.viewable]

    def widget(self, text: str, cls: str | None = None) -> Widget:
        """The visible widget whose text is ``text`` (or starts with it)."""
        shown = [w for w in self.widgets if w.viewable and (cls is None or w.cls == cls)]
        for match in (lambda w: w.text == text, lambda w: w.text.startswith(text)):
            hits = [w for w in shown if match(w)]
            if hits:
                return hits[0]
        raise LookupError(f"no {cls or 'widget'} {text!r} in {self.title!r}: {self.texts}")


def read_dialogs(desktop: components.Desktop, patience: float = 2.0) -> list[DialogWindow]:
    """Every visible Tk window on the desktop, with its texts (see the module docstring). An
    interpreter that does not answer within ``patience`` seconds ends the read there (its
    name goes to :data:`unanswered`); the next poll asks again."""
    try:
        out = subprocess.run(
            [sys.executable, "-c", _READER_SCRIPT, _TCL_READER, str(patience)],
            env={**desktop.env, "NO_AT_BRIDGE": "1"},
            capture_output=True,
            text=True,
            timeout=patience + 15,
            check=False,
        )
    except subprocess.TimeoutExpired:
        # Stuck before any send (Tk's registry of interpreters): nothing read this time.
        unanswered[:] = ["the registry of Tk interpreters"]
        return []
    if out.returncode != 0:
        raise RuntimeError(f"the Tk reader failed: {out.stderr.strip()[-500:]}")
    windows = []
    unanswered.clear()
    for line in out.stdout.splitlines():
        top = json.loads(line)
        if "stuck" in top:
            unanswered.append(top["stuck"])
            continue
        if not top["viewable"]:
            continue
        widgets = tuple(
            Widget(
                path=w[0],
                cls=w[1],
                text=w[2],
                viewable=w[3] == "1",
                x=int(w[4]),
                y=int(w[5]),
                width=int(w[6]),
                height=int(w[7]),
                enabled=w[8] == "1",
                selected=w[9] == "1",
            )
            for w in top["widgets"]
        )
        windows.append(DialogWindow(top["interp"], top["path"], top["title"], top["xid"], widgets))
    return windows


# --- the tray menu --------------------------------------------------------------------------------


def view_of(status: dict[str, Any]) -> Any:
    """The tray's view (its menu model) for the daemon's ``status --json``: the same pure
    function the tray renders with, so a menu walk follows the menu the user sees."""
    from vms_tray.session.snapshot import ServerChoice, Snapshot, State
    from vms_tray.tray.view import build_view

    snap = Snapshot(
        state=State(status["state"]),
        server=status.get("server"),
        login=status.get("login"),
        kind=status.get("kind"),
        sessions_in_use=status.get("sessions_in_use"),
        max_sessions=status.get("max_sessions"),
        waiting_for_seat=bool(status.get("waiting_for_seat")),
        can_list_sessions=bool(status.get("can_list_sessions", True)),
        sign_out_frees_seat=bool(status.get("sign_out_frees_seat", True)),
        servers=tuple(ServerChoice(n, False, "native") for n in status.get("servers") or ()),
    )
    return build_view(snap)


def menu_keys(entries: Sequence[Any], path: Sequence[str]) -> list[str]:
    """The keys that walk a just-opened GTK menu to ``path`` (labels, or their beginnings):
    Down selects the first item, then each further one (separators and greyed-out items are
    skipped); Right opens a submenu on its first item."""
    keys: list[str] = []
    level = list(entries)
    for depth, label in enumerate(path):
        usable = [e for e in level if not e.separator and e.enabled]
        index = next(
            (i for i, e in enumerate(usable) if e.text == label),
            next((i for i, e in enumerate(usable) if e.text.startswith(label)), None),
        )
        if index is None:
            raise LookupError(f"no menu item {label!r} in {[e.text for e in usable]}")
        keys += (["Down"] * (index + 1)) if depth == 0 else (["Right"] + ["Down"] * index)
        level = list(usable[index].children)
    return keys


# --- a journey ------------------------------------------------------------------------------------


@dataclass
class Journey:
    name: str
    desktop: components.Desktop
    tmp: Path
    env: dict[str, str]
    shots: Path
    step: int = 0
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    _log: IO[bytes] | None = None
    _notices_before: int = 0
    _may_exit: bool = False
    _stored: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, name: str, desktop: components.Desktop, tmp: Path) -> Journey:
        """A fresh profile and screenshot folder; the desktop cleared of earlier notices."""
        home = tmp / "home"
        env = {
            **desktop.env,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local/share"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_STATE_HOME": str(home / ".local/state"),
            "VMS_TRAY_PROFILE": str(tmp / "profile"),
            "VMS_TRAY_LANG": "en",
            # A person's settings.toml could say the same; here the waits stay short.
            "VMS_TRAY_POLL_INTERVAL": "1",
            "VMS_TRAY_SEAT_RETRY_INTERVAL": "1",
            "no_proxy": "127.0.0.1,localhost",
        }
        for d in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
            Path(env[d]).mkdir(parents=True, exist_ok=True)
        for name_ in ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "PYSTRAY_BACKEND"):
            env.pop(name_, None)
        shots = ARTIFACTS / name
        shutil.rmtree(shots, ignore_errors=True)
        shots.mkdir(parents=True)
        j = cls(name=name, desktop=desktop, tmp=tmp, env=env, shots=shots)
        j.dunstctl("close-all")
        components.wait_until(
            lambda: not desktop.windows(ICON), 15, "no vms-tray icon left from before"
        )
        components.wait_until(
            lambda: not read_dialogs(desktop) and not unanswered, 15, "no dialog left from before"
        )
        j._notices_before = max((int(n["id"]) for n in desktop.dunst_shown()), default=0)
        return j

    # --- the app ----------------------------------------------------------------------------

    def add_server(
        self, server: Any, name: str = "Office", login: str = "anna", trusted: bool = True
    ) -> None:
        """``vms-tray servers add``: ``trusted`` gives it the server's certificate as its CA
        file (what an administrator hands out); without it the system CAs decide."""
        ca = ("--ca-file", str(server.cert_pem_path)) if trusted else ()
        self.cli("servers", "add", name, server.url, "--login", login, *ca)
        # The test desktop's keyring outlives tests (other suites store passwords for names
        # like "office" in it): a journey starts with no password stored for its servers.
        self.cli("password", "forget", name, check=False)

    def store_password(self, name: str, password: str) -> None:
        """``vms-tray password set NAME`` (the real keyring; forgotten again at teardown, since
        the test desktop's keyring outlives the journey)."""
        self.cli("password", "set", name, stdin=password + "\n")
        self._stored.append(name)

    def use_profile(self, profile: Path) -> None:
        """Talk to the app in ``profile`` from now on (``vms-tray demo`` makes its own)."""
        self.env["VMS_TRAY_PROFILE"] = str(profile)

    def cli(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        """``vms-tray ARGS`` in this journey's profile (what a person types in a terminal)."""
        done = subprocess.run(
            [sys.executable, "-m", "vms_tray", *args],
            env=self.env,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=ROOT,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"vms-tray {' '.join(args)} exited {done.returncode}: {done.stderr}"
            )
        return done.stdout

    def start(self, *args: str) -> None:
        """``vms-tray --debug run`` (or ARGS, e.g. ``demo``), waited for until its icon docks."""
        self.log_path = self.tmp / f"{self.name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vms_tray", "--debug", *(args or ("run",))],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
        )
        self.wait(lambda: bool(self.desktop.windows(ICON)), 30, "the tray icon to dock")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        """:func:`components.wait_until`, failing at once (with the log) if the app died."""

        def done() -> bool:
            if self.proc is not None and self.proc.poll() is not None and not self._may_exit:
                raise AssertionError(
                    f"vms-tray exited {self.proc.returncode} while waiting for {what}:\n"
                    + self.log_text()[-3000:]
                )
            return check()

        try:
            components.wait_until(done, timeout, what, step=0.1)
        except TimeoutError as exc:
            self.shot(f"timeout-{what[:40]}")
            if unanswered:
                raise TimeoutError(f"{exc} (Tk did not answer from {unanswered})") from None
            raise

    def expect_exit(self, timeout: float = 20) -> int:
        assert self.proc is not None
        self._may_exit = True
        return self.proc.wait(timeout=timeout)

    def close(self) -> None:
        """Teardown: a running app is asked to quit (SIGTERM) and waited for; its icon gone."""
        self._may_exit = True
        if self.proc is not None and self.proc.poll() is None:
            components.terminate(self.proc)
        if self._log is not None:
            self._log.close()
        if self.log_path is not None and self.log_path.exists():
            # Kept beside the screenshots: pytest's tmp dirs rotate away.
            shutil.copyfile(self.log_path, self.shots / "vms-tray.log")
        with contextlib.suppress(TimeoutError):
            components.wait_until(lambda: not self.desktop.windows(ICON), 10, "the icon to go")
        self.dunstctl("close-all")
        for name in self._stored:
            self.cli("password", "forget", name, check=False)

    # --- what the person sees ---------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """The daemon's state, as ``vms-tray status --json`` prints it ({} when not running)."""
        out = subprocess.run(
            [sys.executable, "-m", "vms_tray", "status", "--json"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            cwd=ROOT,
        )
        return dict(json.loads(out.stdout)) if out.returncode == 0 and out.stdout else {}

    def wait_state(self, state: str, timeout: float = 30, **fields: Any) -> dict[str, Any]:
        got: dict[str, Any] = {}

        def reached() -> bool:
            got.clear()
            got.update(self.status())
            return got.get("state") == state and all(got.get(k) == v for k, v in fields.items())

        try:
            self.wait(reached, timeout, f"state {state} {fields or ''}".strip())
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; the last status: {got}") from None
        return got

    def icon(self) -> str:
        """The tray icon's window (looked up afresh: GTK may remap it when the icon changes)."""
        found: list[str] = []

        def docked() -> bool:
            found[:] = self.desktop.windows(ICON)
            return bool(found)

        self.wait(docked, 15, "the tray icon")
        return found[0]

    def tooltip(self) -> str:
        with contextlib.suppress(subprocess.CalledProcessError):
            return self.desktop.xdotool("getwindowname", self.icon())
        return ""

    def wait_tooltip(self, needle: str, timeout: float = 30) -> str:
        self.wait(lambda: needle in self.tooltip(), timeout, f"{needle!r} in the tooltip")
        return self.tooltip()

    def icon_image(self, step: str | None = None) -> Any:
        """The icon's pixels as trayer shows them (a PIL image)."""
        from PIL import Image

        path = self.tmp / "icon-root.png"
        self.desktop.screenshot(path)
        img = Image.open(path).convert("RGB").crop(self.desktop.box(self.icon()))
        if step:
            img.save(self.shots / f"{self.step:02d}-{step}-icon.png")
        return img

    def wait_icon(self, color: tuple[int, int, int], what: str, share: float = 0.1) -> None:
        """Until at least ``share`` of the icon's pixels in trayer are ``color`` (the icon's
        state as a person sees it); the last look is kept beside the screenshots."""
        from tests.desktop.conftest import color_share

        self.wait(lambda: color_share(self.icon_image(), color) >= share, 15, f"the icon: {what}")
        self.icon_image(what.split()[0])

    def dialogs(self) -> list[DialogWindow]:
        return read_dialogs(self.desktop)

    def wait_dialog(
        self,
        title: str,
        timeout: float = 30,
        contains: str = "",
        where: Callable[[DialogWindow], bool] | None = None,
    ) -> DialogWindow:
        """The Tk window whose title starts with ``title`` (a leading ``^`` is ignored), once it
        shows ``contains`` (and passes ``where``)."""
        title = title.removeprefix("^")
        found: list[DialogWindow] = []

        def shown() -> bool:
            found[:] = [
                d
                for d in self.dialogs()
                if d.title.startswith(title) and contains in d.text and (where is None or where(d))
            ]
            return bool(found)

        self.wait(
            shown, timeout, f"a window {title!r}" + (f" saying {contains!r}" if contains else "")
        )
        return found[0]

    def wait_no_dialog(self, title: str = "", timeout: float = 15) -> None:
        self.wait(
            # A dialog that did not answer may be the one still open.
            lambda: not [d for d in self.dialogs() if d.title.startswith(title)] and not unanswered,
            timeout,
            f"no window {title!r}" if title else "no dialog",
        )

    # --- notifications ----------------------------------------------------------------------

    def dunstctl(self, *args: str) -> str:
        return subprocess.run(
            ["dunstctl", *args],
            env=self.desktop.env,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()

    def notices_displayed(self) -> int:
        return int(self.dunstctl("count", "displayed") or 0)

    def notices(self) -> list[dict[str, str]]:
        """Notices dunst showed during this journey, oldest first: id, urgency, timeout, icon,
        summary, body (see :meth:`Desktop.dunst_shown`)."""
        return [n for n in self.desktop.dunst_shown() if int(n["id"]) > self._notices_before]

    def wait_notice(self, summary: str, timeout: float = 30) -> dict[str, str]:
        """The newest notice shown this journey whose summary contains ``summary``."""
        found: list[dict[str, str]] = []

        def shown() -> bool:
            found[:] = [n for n in self.notices() if summary in n["summary"]]
            return bool(found)

        self.wait(shown, timeout, f"a notification {summary!r}")
        return found[-1]

    def notice_action(self) -> None:
        """Click the topmost notification's button (its default action), as a person does."""
        subprocess.run(["dunstctl", "action", "0"], env=self.desktop.env, check=True, timeout=10)

    # --- doing ------------------------------------------------------------------------------

    def click_icon(self, button: int = 1) -> None:
        self.desktop.xdotool("mousemove", "--window", self.icon(), "16", "15", "click", str(button))

    def menu(self, *path: str, choose: bool = True) -> None:
        """Open the tray menu (right click) and choose ``path`` with the keys, walking the menu
        the tray shows for the daemon's current state. ``choose=False`` only shows it (a
        submenu open at its first item) for the screenshot, then closes it with Escape."""
        keys = menu_keys(view_of(self.status()).menu, path)
        before = set(self.desktop.windows(""))
        self.click_icon(3)
        self.wait(lambda: bool(set(self.desktop.windows("")) - before), 10, "the tray menu to open")
        self.wait(self.desktop.keyboard_grabbed, 10, "the menu to take the keyboard")
        self.desktop.xdotool("key", "--delay", "60", *keys)
        self.shot("menu-" + "-".join(p.split()[0].lower().strip(".…") for p in path))
        if choose:
            self.desktop.xdotool("key", "Return")
        else:
            for _ in range(len(path) + 1):
                if not self.desktop.keyboard_grabbed():
                    break
                self.desktop.xdotool("key", "Escape")
        self.wait(lambda: not self.desktop.keyboard_grabbed(), 10, "the menu to close")

    def focus(self, dialog: DialogWindow) -> str:
        wid = dialog.xid
        self.desktop.xdotool("windowfocus", "--sync", wid)
        return wid

    def type_into(self, dialog: DialogWindow, text: str, *keys: str) -> None:
        """Focus ``dialog``, type ``text`` where its focus is, then press ``keys``."""
        self.focus(dialog)
        if text:
            self.desktop.xdotool("type", "--delay", "5", text)
        if keys:
            self.desktop.xdotool("key", "--delay", "30", *keys)

    def keys(self, dialog: DialogWindow, *keys: str) -> None:
        self.type_into(dialog, "", *keys)

    def click(self, dialog: DialogWindow, text: str, cls: str | None = None) -> None:
        """Click the widget of ``dialog`` labelled ``text`` with the mouse."""
        w = dialog.widget(text, cls)
        x, y = w.center
        self.desktop.xdotool("mousemove", "--sync", str(x), str(y), "click", "1")

    # --- screenshots ------------------------------------------------------------------------

    def shot(self, step: str) -> Path:
        """The whole screen as ``artifacts/journeys/<journey>/NN-<step>.png``."""
        self.step += 1
        safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in step).strip("-")
        path = self.shots / f"{self.step:02d}-{safe}.png"
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.desktop.screenshot(path)
        return path


@contextlib.contextmanager
def journey(name: str, desktop: components.Desktop, tmp: Path) -> Iterator[Journey]:
    dead = desktop.dead()
    if dead:
        # the desktop lives for the whole run: say what broke it, not 15 timeouts later
        raise RuntimeError(f"the test desktop is broken: {'; '.join(dead)}")
    j = Journey.open(name, desktop, tmp)
    try:
        yield j
    except BaseException as exc:
        j.shot("failed")
        if j.log_path is not None:
            print(j.log_text()[-6000:], file=sys.stderr)
        for death in desktop.dead():
            exc.add_note(f"meanwhile the test desktop's {death}")
        raise
    finally:
        j.close()


def server_sessions(server: Any, login: str) -> list[Any]:
    """The account's open sessions as the reference server has them (its own store, as its
    administrator's ``vms-tray server user list`` reads it)."""
    from vms_tray.refserver.runner import open_store

    store = open_store(server.data_dir)
    try:
        return list(store.active_sessions(login))
    finally:
        store.close()


def other_device(server: Any, login: str, password: str, device: str) -> dict[str, Any]:
    """Sign ``login`` in from another device over the server's HTTP API; its tokens."""
    with server.client() as http:
        r = http.post(
            "/api/v1/sessions",
            json={
                "login": login,
                "password": password,
                "client": {"device": device, "software": "VMS Client", "version": "5.2"},
            },
        )
        assert r.status_code == 201, r.text
        return dict(r.json())


def sign_out_device(server: Any, tokens: dict[str, Any]) -> None:
    """That other device signs out (its seat frees)."""
    with server.client() as http:
        r = http.delete(
            "/api/v1/sessions/current",
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        assert r.status_code == 204, r.text


def end_from_device(server: Any, tokens: dict[str, Any], session_id: str) -> None:
    """That other device ends session ``session_id`` (as its own sessions list lets it)."""
    with server.client() as http:
        r = http.delete(
            f"/api/v1/sessions/{session_id}",
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        assert r.status_code == 204, r.text


__all__ = [
    "ARTIFACTS",
    "DialogWindow",
    "Journey",
    "Widget",
    "end_from_device",
    "journey",
    "menu_keys",
    "other_device",
    "read_dialogs",
    "server_sessions",
    "sign_out_device",
    "view_of",
]
