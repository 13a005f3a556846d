"""Each dialog opens on a real X server, is filled by typing into real Tk widgets, and answers."""

from __future__ import annotations

import pytest

from tests.desktop.conftest import DialogDriver

pytestmark = pytest.mark.desktop

SERVERS = [
    {"name": "HQ", "login": "operator", "default": True, "saved_password": False},
    {"name": "Branch", "login": "guard", "default": False, "saved_password": True},
]


def test_login_types_and_submits(dialogs: DialogDriver) -> None:
    handle, wid = dialogs.open("login", {"servers": SERVERS}, "Sign in")
    dialogs.focus(wid)
    # Focus starts in the password field (the login is pre-filled from the default server).
    dialogs.type("s3cret pass")
    dialogs.shot(wid, "dialog-login.png")
    dialogs.key("Return")
    answer = handle.wait(15)
    assert answer == {
        "action": "login",
        "server": "HQ",
        "login": "operator",
        "password": "s3cret pass",
        "remember": False,
        "trust_fingerprint": None,
    }
