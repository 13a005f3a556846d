"""The first start's desktop-launcher question on a real X server: Enter adds, Esc is Not now."""

from __future__ import annotations

import pytest

from tests.desktop.conftest import DialogDriver

pytestmark = pytest.mark.desktop

REQUEST = {"folder": "/home/anna/Desktop", "command": "vms-tray desktop-launcher add"}


def test_enter_adds_the_launcher(dialogs: DialogDriver) -> None:
    handle, wid = dialogs.open("desktop_offer", REQUEST, "vms-tray launcher")
    dialogs.focus(wid)
    dialogs.shot(wid, "dialog-desktop-offer.png")
    dialogs.key("Return")
    assert handle.wait(15) == {"action": "add"}


def test_escape_is_not_now(dialogs: DialogDriver) -> None:
    handle, wid = dialogs.open("desktop_offer", REQUEST, "vms-tray launcher")
    dialogs.focus(wid)
    dialogs.key("Escape")
    assert handle.wait(15) == {"action": "not_now"}
