"""The tray on a real StatusNotifierItem host: the protocol of KDE Plasma and GNOME's
AppIndicator extension, here gtk-sni-tray-standalone with its own watcher.

Without PYSTRAY_BACKEND the tray picks AppIndicator, its item registers with the watcher, the
host draws the icon of each state, and the menu the host gets over com.canonical.dbusmenu is the
one vms_tray.tray.view builds; the host's clicks reach the daemon. trayer runs on the same
desktop (KDE on X11 also has an XEmbed host, its xembedsniproxy): the icon must not go there.

At login the tray can start before the panel that owns the watcher: on a StatusNotifier desktop
it still picks AppIndicator, and its item registers once a host started after it is up. When the
panel restarts, the item registers with the new one, also when that watcher refuses it at first.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from PIL import Image, ImageChops

from tests.desktop.conftest import ARTIFACTS, HAVE_GI, color_share
from tests.desktop.tray.conftest import ICON_NAME, SIGNED_IN, TrayProcess
from tests.desktop.tray_child import snapshot_from
from tests.support import components
from tests.support.sni import (
    BACKGROUND,
    WATCHER,
    MenuNode,
    SniBus,
    SniHost,
    SniItem,
    late_sni_host,
    sni_host,
)
from vms_tray import i18n
from vms_tray.assets import IconName
from vms_tray.tray.icon import load_image
from vms_tray.tray.view import MenuEntry, TrayView, build_view

pytestmark = pytest.mark.desktop

SIGNED_OUT = {"state": "signed_out", "servers": SIGNED_IN["servers"]}


@pytest.fixture(scope="module")
def sni_desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[components.Desktop]:
    """A desktop of its own, so the watcher never reaches the XEmbed-only tests."""
    components.require("PyGObject", HAVE_GI, "pip install 'vms-tray[gtk]'")
    work = tmp_path_factory.mktemp("sni-desktop")
    with components.x_desktop(work, keyring=False) as desktop:
        yield desktop


@pytest.fixture
def host(sni_desktop: components.Desktop) -> Iterator[SniHost]:
    """A host (and watcher) per test: gtk-sni-tray may keep drawing the icon of an item whose
    process quit for a while, and a test must measure and click only its own."""
    with sni_host(sni_desktop) as h:
        yield h


@pytest.fixture(autouse=True)
def english() -> None:
    i18n.install("en")  # what tray_child shows (VMS_TRAY_LANG=en)


def view_of(snapshot: dict[str, Any]) -> TrayView:
    # tray_child has no autostart backend, so "Start at login" is greyed out there.
    return build_view(snapshot_from(snapshot), autostart_available=False)


class SniTray:
    """The tray child process, seen from the StatusNotifier host."""

    def __init__(self, host: SniHost, proc: TrayProcess) -> None:
        self.host = host
        self.proc = proc

    def item(self) -> SniItem:
        """Our item among the watcher's registrations (the one our process owns), once Active.

        libayatana registers it Passive, which hosts may hide; pystray makes it Active when the
        icon is shown (it once never did: vms_tray.tray.icon._first_menu)."""
        found: list[SniItem] = []

        def registered() -> bool:
            found[:] = [i for i in self.host.bus.items() if i.pid == self.proc.proc.pid]
            return bool(found)

        components.wait_until(registered, 15, "the tray to register with the watcher", step=0.2)
        (item,) = found
        components.wait_until(
            lambda: self.host.bus.item_property(item, "Status") == "Active",
            10,
            "the item to become Active",
        )
        return item

    def menu(self) -> MenuNode:
        return self.host.bus.menu(self.item())

    def close(self) -> None:
        self.proc.close()


def _settled(host: SniHost) -> None:
    """No other item with the watcher or in the bar (a leftover icon would be measured and
    clicked too)."""
    components.wait_until(lambda: not host.bus.items(), 10, "the watcher to drop earlier items")
    components.wait_until(
        lambda: _drawn_icon(host, "tray-sni-empty")[1] == EMPTY_BOX,
        10,
        "the bar to drop the icons of earlier items",
        step=0.2,
    )


@pytest.fixture
def start(host: SniHost, tmp_path: Path) -> Iterator[Any]:
    trays: list[SniTray] = []

    def start_tray(first: dict[str, Any]) -> SniTray:
        _settled(host)
        # "": vms-tray chooses the backend
        tray = SniTray(host, TrayProcess(host.desktop, "", tmp_path / f"profile{len(trays)}"))
        trays.append(tray)
        tray.proc.push(first)
        return tray

    yield start_tray
    for tray in trays:
        tray.close()


def _color(name: IconName) -> tuple[int, int, int]:
    """The state's colour: the commonest opaque, non-white colour of its icon."""
    # RGBA colours are 4-tuples (Pillow's type also allows a float for single-band images).
    counts = cast(
        list[tuple[int, tuple[int, int, int, int]]],
        load_image(name).convert("RGBA").getcolors(1 << 16) or [],
    )
    rgba = max(c for c in counts if c[1][3] == 255 and c[1][:3] != (255, 255, 255))[1]
    return rgba[0], rgba[1], rgba[2]


EMPTY_BOX = (0, 0, 1, 1)  # _drawn_icon's box for a bar with nothing in it


def _drawn_icon(host: SniHost, name: str) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """The icon as the host drew it, and its box in the bar: what differs from the background."""
    shot = host.desktop.screenshot(ARTIFACTS / f"{name}.png", window=host.window)
    bar = Image.open(shot).convert("RGB")
    diff = ImageChops.difference(bar, Image.new("RGB", bar.size, BACKGROUND)).convert("L")
    box = diff.point(lambda v: 255 if v > 24 else 0).getbbox() or EMPTY_BOX
    return bar.crop(box), box


def _shows(host: SniHost, name: str, icon: IconName, other: IconName) -> bool:
    img, _box = _drawn_icon(host, name)
    return color_share(img, _color(icon)) > 0.1 and color_share(img, _color(other)) < 0.02


def _rows(node: MenuNode) -> list[Any]:
    """A menu as the host gets it: (label, enabled, checked, radio, submenu) or "-"."""
    rows: list[Any] = []
    for c in node.children:
        p = c.props
        if p.get("type") == "separator":
            rows.append("-")
            continue
        toggle = p.get("toggle-type")
        checked = bool(p["toggle-state"]) if toggle else None
        rows.append((p["label"], p.get("enabled", True), checked, toggle == "radio", _rows(c)))
    return rows


def _expected_rows(entries: tuple[MenuEntry, ...]) -> list[Any]:
    return [
        "-" if e.separator else (e.text, e.enabled, e.checked, e.radio, _expected_rows(e.children))
        for e in entries
    ]


def test_a_statusnotifier_host_gets_an_appindicator_item(host: SniHost, start: Any) -> None:
    tray = start(SIGNED_IN)
    assert tray.proc.expect("ready")["backend"] == "appindicator"
    item = tray.item()
    assert host.bus.item_property(item, "Id") == "vms-tray"
    assert host.bus.item_property(item, "Status") == "Active"
    # Registered with the watcher, so libayatana made no XEmbed icon for trayer.
    assert host.desktop.windows(ICON_NAME) == []


def test_the_host_draws_the_icon_and_title_of_each_state(host: SniHost, start: Any) -> None:
    tray = start(SIGNED_OUT)
    item = tray.item()
    components.wait_until(
        lambda: _shows(host, "tray-sni-signed-out", IconName.SIGNED_OUT, IconName.SIGNED_IN),
        10,
        "the grey (signed-out) icon in the StatusNotifier bar",
        step=0.2,
    )
    assert host.bus.item_property(item, "Title") == view_of(SIGNED_OUT).tooltip

    tray.proc.push(SIGNED_IN)
    components.wait_until(
        lambda: _shows(host, "tray-sni-signed-in", IconName.SIGNED_IN, IconName.SIGNED_OUT),
        10,
        "the icon to turn green (signed in)",
        step=0.2,
    )
    title = host.bus.item_property(item, "Title")
    assert title == view_of(SIGNED_IN).tooltip
    assert "Server: HQ" in title and "Login: operator" in title and "3 of 5 sessions" in title


def test_the_dbusmenu_is_the_views_menu_and_its_clicks_reach_the_daemon(
    host: SniHost, start: Any
) -> None:
    tray = start(SIGNED_IN)
    item = tray.item()
    assert _rows(tray.menu()) == _expected_rows(view_of(SIGNED_IN).menu)

    host.bus.click(item, tray.menu().find("Servers", "Branch"))
    assert tray.proc.expect("command") == {
        "command": "SwitchServer",
        "fields": {"name": "Branch", "login": None, "password": None, "remember": False},
    }

    tray.proc.push(SIGNED_OUT)
    expected = _expected_rows(view_of(SIGNED_OUT).menu)
    components.wait_until(lambda: _rows(tray.menu()) == expected, 10, "the signed-out menu")

    host.bus.click(item, tray.menu().find("Quit"))
    assert tray.proc.expect("command") == {"command": "Quit", "fields": {}}
    assert tray.proc.proc.wait(timeout=10) == 0
    components.wait_until(
        lambda: not host.bus.registered(item.bus_name),
        10,
        "the watcher to drop the item of the process that quit",
    )


def test_a_right_click_in_the_host_opens_the_menu(host: SniHost, start: Any) -> None:
    tray = start(SIGNED_IN)
    tray.item()
    components.wait_until(
        lambda: _shows(host, "tray-sni-bar", IconName.SIGNED_IN, IconName.SIGNED_OUT),
        10,
        "the green icon",
        step=0.2,
    )
    # The icon can be drawn while the item still has its placeholder menu (icon.py sets the
    # view's icon before its menu): the host must not open that one.
    expected = _expected_rows(view_of(SIGNED_IN).menu)
    components.wait_until(lambda: _rows(tray.menu()) == expected, 10, "the signed-in menu")
    left, top, _right, bottom = host.desktop.box(host.window)
    _img, (x0, y0, x1, y1) = _drawn_icon(host, "tray-sni-bar")
    # gtk-sni-tray sends a left click to the item's Activate, which libayatana items lack; its
    # right click opens the menu (libdbusmenu-gtk, drawn by the host from our dbusmenu).
    host.desktop.xdotool("mousemove", str(left + (x0 + x1) // 2), str(top + (y0 + y1) // 2))
    host.desktop.xdotool("click", "3")
    components.wait_until(lambda: len(host.windows()) > 1, 10, "the host's menu to open")
    (menu,) = host.windows() - {host.window}
    shot = host.desktop.screenshot(ARTIFACTS / "tray-sni-menu-root.png")
    # For the README: the menu and the part of the (wider) bar below it.
    m_left, m_top, m_right, _m_bottom = host.desktop.box(menu)
    Image.open(shot).crop((m_left, m_top, m_right, bottom)).save(ARTIFACTS / "tray-sni.png")

    host.desktop.xdotool("key", "--delay", "60", "Down", "Down", "Return")  # status, Sign out
    assert tray.proc.expect("command") == {"command": "SignOut", "fields": {}}


def test_a_middle_click_runs_the_default_action(host: SniHost, start: Any) -> None:
    """SecondaryActivate (a middle click on KDE Plasma) does what a left click does on the
    other backends: signed out, it opens the sign-in dialog."""
    tray = start(SIGNED_OUT)
    item = tray.item()
    expected = _expected_rows(view_of(SIGNED_OUT).menu)
    components.wait_until(lambda: _rows(tray.menu()) == expected, 10, "the signed-out menu")
    host.bus.secondary_activate(item)
    dialog = host.desktop.wait_window("^Sign in", 15, "the sign-in dialog after a middle click")
    host.desktop.xdotool("windowfocus", "--sync", dialog)
    host.desktop.xdotool("key", "Escape")
    components.wait_until(
        lambda: not host.desktop.windows("^Sign in"), 10, "the dialog to close on Esc"
    )


def _fallback_icon(desktop: components.Desktop) -> bool:
    """libayatana's XEmbed icon exists, docked or not: made only when it found no watcher."""
    try:
        return bool(desktop.xdotool("search", "--name", ICON_NAME).split())
    except subprocess.CalledProcessError:  # xdotool's answer when nothing matches
        return False


@dataclass
class TrayBeforePanel:
    desktop: components.Desktop
    bus: SniBus
    proc: TrayProcess
    item: SniItem  # exported, waiting for a watcher


@contextlib.contextmanager
def _tray_before_panel(tmp_path: Path) -> Iterator[TrayBeforePanel]:
    """The tray started on a KDE desktop whose panel (the watcher) is not up: its item is on
    the bus, and libayatana shows its XEmbed fallback meanwhile."""
    components.require("PyGObject", HAVE_GI, "pip install 'vms-tray[gtk]'")
    with (
        components.x_desktop(tmp_path / "desktop", notifications=False, keyring=False) as desktop,
        contextlib.closing(SniBus(desktop.env["DBUS_SESSION_BUS_ADDRESS"])) as bus,
    ):
        proc = TrayProcess(
            desktop, "", tmp_path / "profile", extra_env={"XDG_CURRENT_DESKTOP": "KDE"}
        )
        try:
            proc.push(SIGNED_IN)
            assert proc.expect("ready")["backend"] == "appindicator"
            exported: list[SniItem | None] = [None]

            def waiting() -> bool:
                exported[0] = bus.exported_item(proc.proc.pid)
                return exported[0] is not None and _fallback_icon(desktop)

            components.wait_until(waiting, 15, "the item on the bus and libayatana's fallback")
            assert exported[0] is not None
            assert not bus.has_owner(WATCHER)
            yield TrayBeforePanel(desktop, bus, proc, exported[0])
        finally:
            proc.close()


def test_an_item_registers_with_a_host_that_starts_after_the_tray(tmp_path: Path) -> None:
    """The login race: autostarted before the panel, the tray finds no watcher on the bus, yet
    a KDE session (like GNOME's and Wayland's) will have one, so the tray picks AppIndicator.
    libayatana shows an XEmbed icon meanwhile and registers when the watcher's name gets an
    owner; the host then gets an Active item whose menu works, and the XEmbed icon goes."""
    with (
        _tray_before_panel(tmp_path) as t,
        late_sni_host(t.desktop, t.item) as (host, _refusals),
    ):
        tray = SniTray(host, t.proc)
        item = tray.item()  # registered, and Active
        assert item == t.item
        assert host.bus.item_property(item, "Title") == view_of(SIGNED_IN).tooltip
        assert _rows(tray.menu()) == _expected_rows(view_of(SIGNED_IN).menu)
        host.bus.click(item, tray.menu().find("Servers", "Branch"))
        assert t.proc.expect("command") == {
            "command": "SwitchServer",
            "fields": {"name": "Branch", "login": None, "password": None, "remember": False},
        }
        components.wait_until(
            lambda: t.desktop.windows(ICON_NAME) == [],
            10,
            "the XEmbed fallback icon to leave trayer",
        )


PANEL_RESTARTS = 4


def test_the_item_returns_each_time_the_panel_restarts(tmp_path: Path) -> None:
    """A panel that restarts (a crash, a new plasmashell, a login race) brings a new watcher:
    the item registers with each one, Active with its menu, without restarting the tray. A new
    watcher may refuse it at first (gtk-sni-tray's does, often on a loaded machine); the tray
    then registers again (vms_tray.tray.registration)."""
    with _tray_before_panel(tmp_path) as t:
        expected = _expected_rows(view_of(SIGNED_IN).menu)
        refusals = 0
        for _restart in range(PANEL_RESTARTS):
            with late_sni_host(t.desktop, t.item) as (host, refused):
                refusals += refused
                assert SniTray(host, t.proc).item() == t.item  # registered and Active
                assert _rows(host.bus.menu(t.item)) == expected
            components.wait_until(
                lambda: not t.bus.has_owner(WATCHER), 10, "the panel's watcher to go"
            )
        assert t.proc.proc.poll() is None
        print(f"watchers refused the item {refusals} times in {PANEL_RESTARTS} restarts")
