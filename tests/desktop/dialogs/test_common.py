"""What every dialog shares (vms_tray.dialogs.common), on a real X server: Escape cancels, and
fonts and distances follow the scale."""

from __future__ import annotations

import pytest

from tests.desktop.conftest import DialogDriver
from tests.desktop.dialogs.helpers import SERVERS
from tests.support import components

pytestmark = pytest.mark.desktop


def test_cancel_with_escape(dialogs: DialogDriver) -> None:
    handle, wid = dialogs.open("login", {"servers": SERVERS}, "Sign in")
    dialogs.focus(wid)
    dialogs.key("Escape")
    assert handle.wait(15) == {"action": "cancel"}


def _width(dialogs: DialogDriver, wid: str) -> int:
    left, _top, right, _bottom = dialogs.desktop.box(wid)
    return right - left


def test_login_is_readable_at_200_percent(desktop: components.Desktop) -> None:
    """Fonts are named and sized in points, distances scaled: at 2x the window doubles."""
    sizes = {}
    for scale in ("1", "2"):
        d = DialogDriver(desktop)
        d.launcher.env = {**desktop.env, "VMS_TRAY_LANG": "en", "VMS_TRAY_SCALE": scale}
        try:
            handle, wid = d.open("login", {"servers": SERVERS}, "Sign in")
            sizes[scale] = _width(d, wid)
            if scale == "2":
                d.shot(wid, "dialog-login-200.png")
            d.focus(wid)
            d.key("Escape")
            assert handle.wait(15) == {"action": "cancel"}
        finally:
            d.close()
    assert 1.7 < sizes["2"] / sizes["1"] < 2.3
