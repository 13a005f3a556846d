"""The first start offers a launcher on the desktop, once: "Add to desktop" puts an executable
vms-tray.desktop there that runs the installed menu entry's command; the second start asks
nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.journeys.conftest import PASSWORD
from tests.support.journey import Journey
from tests.support.refserver import RefServer
from vms_tray.autostart.launch import parse_desktop_exec
from vms_tray.autostart.xdg import read_desktop_entry

pytestmark = pytest.mark.desktop

TITLE = "vms-tray launcher"


def test_first_start_offers_a_desktop_launcher_once(walk: Journey, office: RefServer) -> None:
    desktop = Path(walk.env["HOME"]) / "Desktop"
    desktop.mkdir()
    walk.add_server(office)
    walk.store_password("Office", PASSWORD)
    walk.start()
    dialog = walk.wait_dialog(TITLE, contains="Put a vms-tray launcher on your desktop?")
    assert str(desktop) in dialog.text
    walk.shot("offer")
    walk.click(dialog, "Add to desktop")
    launcher = desktop / "vms-tray.desktop"
    walk.wait(launcher.is_file, 15, "the launcher on the desktop")
    walk.wait_no_dialog(TITLE)
    walk.shot("added")
    assert os.access(launcher, os.X_OK)
    entry = read_desktop_entry(launcher.read_text())
    menu = Path(walk.env["XDG_DATA_HOME"]) / "applications/vms-tray.desktop"
    # No menu entry was installed in this fresh HOME: it was put in place first, and the
    # launcher is its twin (this interpreter's command, the vms-tray icon from the theme).
    assert launcher.read_text() == menu.read_text()
    assert parse_desktop_exec(entry["Exec"])[1:] == ["-m", "vms_tray", "run"]
    assert entry["Icon"] == "vms-tray"
    walk.wait_state("signed_in")

    walk.cli("quit")
    assert walk.expect_exit() == 0
    walk.start()
    walk.wait(lambda: "desktop launcher: offered before (added)" in walk.log_text(), 30, "the tray")
    walk.wait_state("signed_in")
    assert not [d for d in walk.dialogs() if d.title.startswith(TITLE)]
    walk.shot("second-start")
