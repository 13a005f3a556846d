"""The About dialog on a real X server."""

from __future__ import annotations

import pytest

from tests.desktop.conftest import DialogDriver

pytestmark = pytest.mark.desktop


def test_about_closes_on_enter(dialogs: DialogDriver) -> None:
    handle, wid = dialogs.open(
        "about", {"version": "0.1.0", "status": "Signed in to HQ as operator"}, "About"
    )
    dialogs.focus(wid)
    dialogs.shot(wid, "dialog-about.png")
    dialogs.key("Return")
    assert handle.wait(15) == {"action": "close"}
