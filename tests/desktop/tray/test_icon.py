"""The real tray on a real X server: the icon shows in trayer, the menu opens and its items post
commands, a left click opens the right dialog, and Quit ends the process.

The tray runs in a child process (tests/desktop/tray_child.py, driven by TrayProcess of
tests/desktop/tray/conftest.py) with a fake daemon at the boundary: snapshots in on stdin,
posted commands out on stdout.
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.desktop.conftest import ARTIFACTS, HAVE_GI, color_share, crop_to_content
from tests.desktop.tray.conftest import SERVERS, SIGNED_IN, TrayProcess
from tests.support import components

pytestmark = pytest.mark.desktop

GREEN = (0x1F, 0x9D, 0x55)
AMBER = (0xE0, 0xA1, 0x00)


@pytest.fixture
def tray(desktop: components.Desktop, tmp_path: Path) -> Iterator[TrayProcess]:
    backend = "gtk" if HAVE_GI else "xorg"
    components.require("PyGObject", HAVE_GI, "pip install 'vms-tray[gtk]'")
    t = TrayProcess(desktop, backend, tmp_path / "profile")
    t.push(SIGNED_IN)
    assert t.expect("ready")["backend"] == backend
    yield t
    t.close()


def _icon_pixels(desktop: components.Desktop, t: TrayProcess, name: str) -> Image.Image:
    shot = desktop.screenshot(ARTIFACTS / f"{name}-root.png")
    img = Image.open(shot).crop(t.icon_box())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    img.save(ARTIFACTS / f"{name}.png")
    return img


def test_icon_appears_and_follows_the_state(desktop: components.Desktop, tray: TrayProcess) -> None:
    got: list[Image.Image] = []

    def green() -> bool:
        got[:] = [_icon_pixels(desktop, tray, "tray-signed-in")]
        return color_share(got[0], GREEN) > 0.1

    components.wait_until(green, 10, "a green (signed-in) icon in the tray", step=0.2)
    # The tooltip is the window title of the embedded icon (GTK status icon).
    title = desktop.xdotool("getwindowname", tray.icon_window())
    assert "Server: HQ" in title and "Login: operator" in title and "3 of 5 sessions" in title

    tray.push({**SIGNED_IN, "sessions_in_use": 4})

    def amber() -> bool:
        img = _icon_pixels(desktop, tray, "tray-near-limit")
        return color_share(img, AMBER) > 0.1 and color_share(img, GREEN) < 0.02

    components.wait_until(amber, 10, "the icon to turn amber (near the limit)", step=0.2)


def _open_menu(desktop: components.Desktop, tray: TrayProcess) -> None:
    wid = tray.icon_window()
    before = set(desktop.xdotool("search", "--onlyvisible", "--class", "Tray_child.py").split())
    desktop.xdotool("mousemove", "--window", wid, "16", "15", "click", "3")

    def menu_shown() -> bool:
        now = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--class", "Tray_child.py"],
            env=desktop.env,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.split()
        return bool(set(now) - before)

    components.wait_until(menu_shown, 10, "the tray menu to open")


def test_menu_switches_server_and_quits(desktop: components.Desktop, tray: TrayProcess) -> None:
    _open_menu(desktop, tray)
    # status line, Sign out, Servers -> submenu (HQ), Branch.
    desktop.xdotool("key", "--delay", "60", "Down", "Down", "Down", "Right", "Down")
    crop_to_content(desktop.screenshot(ARTIFACTS / "tray-menu.png"))
    desktop.xdotool("key", "Return")
    assert tray.expect("command") == {
        "command": "SwitchServer",
        "fields": {"name": "Branch", "login": None, "password": None, "remember": False},
    }

    _open_menu(desktop, tray)
    desktop.xdotool("key", "--delay", "60", "Down", "Down", "Return")  # Sign out
    assert tray.expect("command") == {"command": "SignOut", "fields": {}}

    _open_menu(desktop, tray)
    desktop.xdotool("key", "--delay", "60", "Up", "Return")  # the last item: Quit
    assert tray.expect("command") == {"command": "Quit", "fields": {}}
    assert tray.expect("exited")
    assert tray.proc.wait(timeout=10) == 0


def test_left_click_opens_sign_in_when_signed_out(
    desktop: components.Desktop, tray: TrayProcess
) -> None:
    tray.push({"state": "signed_out", "servers": SERVERS})
    wid = tray.icon_window()
    components.wait_until(
        lambda: "Signed out" in desktop.xdotool("getwindowname", wid), 10, "the new tooltip"
    )
    desktop.xdotool("mousemove", "--window", wid, "16", "15", "click", "1")

    def login_open() -> bool:
        r = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", "^Sign in"],
            env=desktop.env,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        return bool(r.stdout.strip())

    components.wait_until(login_open, 15, "the sign-in dialog after a left click")
    dlg = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", "^Sign in"],
        env=desktop.env,
        capture_output=True,
        text=True,
        timeout=5,
        check=True,
    ).stdout.split()[0]
    desktop.xdotool("windowfocus", "--sync", dlg)
    desktop.xdotool("key", "Escape")
    components.wait_until(lambda: not login_open(), 10, "the dialog to close on Esc")


def _visible_windows(desktop: components.Desktop) -> set[str]:
    return set(desktop.windows(""))


def _menu_opened(desktop: components.Desktop, before: set[str]) -> bool:
    return bool(_visible_windows(desktop) - before)


def test_xorg_backend_click_opens_the_menu_as_a_popup(
    desktop: components.Desktop, tmp_path: Path
) -> None:
    """pystray's Xorg backend has no menus: a click shows the same menu as a Tk popup."""
    t = TrayProcess(desktop, "xorg", tmp_path / "profile")
    try:
        t.push(SIGNED_IN)
        assert t.expect("ready")["backend"] == "xorg"
        wid = t.icon_window()
        before = _visible_windows(desktop)
        desktop.xdotool("mousemove", "--window", wid, "10", "15", "click", "1")
        components.wait_until(
            lambda: bool(_visible_windows(desktop) - before), 15, "the popup menu"
        )
        crop_to_content(desktop.screenshot(ARTIFACTS / "tray-popup-xorg.png"))
        # Tk hands keys to the menu only while the pointer is over one of its windows (the test
        # desktop's focus follows the pointer), and the menu opens under the click, where
        # trayer's icon can stay on top of it. So the pointer goes onto the status line, the
        # first entry, which then is the active one; the walk starts from there.
        left, top, _right, _bottom = max(
            (desktop.box(w) for w in _visible_windows(desktop) - before),
            key=lambda b: (b[2] - b[0]) * (b[3] - b[1]),
        )
        desktop.xdotool("mousemove", "--sync", str(left + 30), str(top + 10))
        components.wait_until(desktop.keyboard_grabbed, 10, "the popup to take the keyboard")
        # Sign out, Servers -> HQ, Branch
        desktop.xdotool("key", "--delay", "80", "Down", "Down", "Right", "Down", "Return")
        assert t.expect("command") == {
            "command": "SwitchServer",
            "fields": {"name": "Branch", "login": None, "password": None, "remember": False},
        }
    finally:
        t.close()


def _runs_and_quits(t: TrayProcess, desktop: components.Desktop) -> None:
    assert t.expect("ready", timeout=20)
    t.icon_window()
    t.proc.terminate()  # SIGTERM: the tray quits cleanly
    assert t.expect("command") == {"command": "Quit", "fields": {}}
    assert t.proc.wait(timeout=15) == 0


@pytest.mark.parametrize("problem", ["no-session-bus", "service-fails-to-start"])
def test_gtk_tray_survives_a_missing_or_broken_notification_service(
    desktop: components.Desktop, tmp_path: Path, problem: str
) -> None:
    """pystray's GTK backend raises from run() and stop() in both cases; ours must not."""
    components.require("PyGObject", HAVE_GI, "pip install 'vms-tray[gtk]'")
    if problem == "no-session-bus":
        env = {**desktop.env, "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/bus"}
        t = TrayProcess(components.Desktop(desktop.display, env, desktop.workdir), "gtk", tmp_path)
        try:
            t.push(SIGNED_IN)
            _runs_and_quits(t, desktop)
        finally:
            t.close()
        return
    # A bus on which dunst is activatable but cannot start (no DISPLAY in its environment).
    no_display = {k: v for k, v in desktop.env.items() if k != "DISPLAY"}
    with components.dbus_session(no_display, tmp_path) as bus:
        env = {**desktop.env, "DBUS_SESSION_BUS_ADDRESS": bus.address}
        t = TrayProcess(components.Desktop(desktop.display, env, desktop.workdir), "gtk", tmp_path)
        try:
            t.push(SIGNED_IN)
            _runs_and_quits(t, desktop)
        finally:
            t.close()


def test_without_a_statusnotifier_host_gtk_is_chosen(
    desktop: components.Desktop, tmp_path: Path
) -> None:
    """trayer is an XEmbed host with no StatusNotifier watcher: GTK's icon, which docks reliably."""
    components.require("PyGObject", HAVE_GI, "pip install 'vms-tray[gtk]'")
    t = TrayProcess(desktop, "", tmp_path / "profile")
    try:
        t.push(SIGNED_IN)
        assert t.expect("ready")["backend"] == "gtk"
        t.icon_window()
    finally:
        t.close()


APPINDICATOR_STARTS = 3


def test_appindicator_backend_click_opens_the_menu(tmp_path: Path) -> None:
    """AppIndicator (Ayatana) has no default action: a click opens the same menu.

    CI has no StatusNotifier host (Debian 12 packages none), so this forces AppIndicator onto an
    XEmbed host, where libayatana's fallback icon never docks in about one start of four — the
    reason vms_tray.tray.backend picks GTK there. Each start gets a fresh X server and tray host;
    only a failure to dock is retried (up to APPINDICATOR_STARTS), never a wrong menu.
    """
    components.require("PyGObject", HAVE_GI, "pip install 'vms-tray[gtk]'")
    for start in range(1, APPINDICATOR_STARTS + 1):
        with components.x_desktop(
            tmp_path / f"desktop{start}", notifications=False, keyring=False
        ) as desktop:
            t = TrayProcess(desktop, "appindicator", tmp_path / f"profile{start}")
            try:
                t.push(SIGNED_IN)
                assert t.expect("ready")["backend"] == "appindicator"
                try:
                    wid = t.icon_window()
                except TimeoutError:
                    if start == APPINDICATOR_STARTS:
                        raise
                    continue
                before = _visible_windows(desktop)
                desktop.xdotool("mousemove", "--window", wid, "16", "15", "click", "1")
                components.wait_until(
                    functools.partial(_menu_opened, desktop, before), 15, "the menu"
                )
                desktop.xdotool("key", "--delay", "60", "Down", "Down", "Return")  # Sign out
                assert t.expect("command") == {"command": "SignOut", "fields": {}}
                return
            finally:
                t.close()


def test_start_at_login_item_writes_and_removes_the_autostart_entry(
    desktop: components.Desktop, tmp_path: Path
) -> None:
    components.require("PyGObject", HAVE_GI, "pip install 'vms-tray[gtk]'")
    config = tmp_path / "config"
    entry = config / "autostart" / "vms-tray.desktop"
    t = TrayProcess(
        desktop,
        "gtk",
        tmp_path / "profile",
        {"XDG_CONFIG_HOME": str(config), "TRAY_CHILD_AUTOSTART": "1"},
    )
    try:
        t.push(SIGNED_IN)
        t.expect("ready")
        # status, Sign out, Servers, Sessions, Start at login
        _open_menu(desktop, t)
        desktop.xdotool("key", "--delay", "60", "Down", "Down", "Down", "Down", "Down", "Return")
        components.wait_until(entry.exists, 10, "the XDG autostart entry")
        assert "Exec=" in entry.read_text()
        _open_menu(desktop, t)
        crop_to_content(desktop.screenshot(ARTIFACTS / "tray-menu-autostart-on.png"))
        desktop.xdotool("key", "--delay", "60", "Down", "Down", "Down", "Down", "Down", "Return")
        components.wait_until(lambda: not entry.exists(), 10, "the entry to be removed")
    finally:
        t.close()
