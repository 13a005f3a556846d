"""``python -m vms_tray.dialogs`` on a real X server: the request's language picks the catalog."""

from __future__ import annotations

import pytest

from tests.desktop.conftest import DialogDriver
from tests.desktop.dialogs.helpers import AT_THE_LIMIT

pytestmark = pytest.mark.desktop


def test_dialogs_speak_russian(dialogs: DialogDriver) -> None:
    request = {**AT_THE_LIMIT, "language": "ru"}
    # xdotool matches the Latin-1 WM_NAME: look for the ASCII tail of the Russian title.
    handle, wid = dialogs.open("sessions", request, "vms-tray$")
    dialogs.shot(wid, "dialog-sessions-ru.png")
    dialogs.focus(wid)
    dialogs.key("Escape")
    assert handle.wait(15) == {"action": "cancel"}
