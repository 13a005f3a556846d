"""The User Sessions dialog on a real X server: ending the recommended session, waiting."""

from __future__ import annotations

import pytest

from tests.desktop.conftest import DialogDriver
from tests.desktop.dialogs.helpers import AT_THE_LIMIT, SESSIONS
from tests.support import components

pytestmark = pytest.mark.desktop

TITLES = "vms-tray$"  # xdotool matches the Latin-1 WM_NAME: the ASCII tail of either title


def test_sessions_end_the_recommended_one_after_confirming(dialogs: DialogDriver) -> None:
    request = dict(AT_THE_LIMIT)
    handle, wid = dialogs.open("sessions", request, "User sessions")
    dialogs.focus(wid)
    dialogs.shot(wid, "dialog-sessions.png")
    dialogs.key("Return")  # the recommended (idle, oldest) session is preselected
    confirm = dialogs.window("End session")
    dialogs.shot(confirm, "dialog-sessions-confirm.png")
    dialogs.focus(confirm)
    # "Keep it" (Shift+Tab from the default button, then Enter) ends nothing.
    dialogs.key("shift+Tab", "Return")
    components.wait_until(lambda: not _visible(dialogs, "End session"), 10, "the confirm gone")
    assert not handle.done.wait(0.3)
    dialogs.focus(wid)
    dialogs.key("Return")
    confirm = dialogs.window("End session")
    dialogs.focus(confirm)
    dialogs.key("Return")  # the default: "End <device>'s session"
    assert handle.wait(15) == {"action": "end", "session_id": "s-old-idle"}


def _visible(dialogs: DialogDriver, title: str) -> bool:
    try:
        dialogs.window(title, timeout=0.2)
    except TimeoutError:
        return False
    return True


def test_sessions_wait(dialogs: DialogDriver) -> None:
    request = {"server": "HQ", "conflict": True, "max": 3, "active": 3, "sessions": SESSIONS}
    handle, wid = dialogs.open("sessions", request, "User sessions")
    dialogs.focus(wid)
    dialogs.key("alt+w")
    assert handle.wait(15) == {"action": "wait"}


def test_sessions_ask_an_active_session_to_hand_over(dialogs: DialogDriver) -> None:
    request = {
        "server": "HQ",
        "conflict": True,
        "handover": True,
        "max": 3,
        "active": 3,
        "sessions": [
            *SESSIONS[:2],
            {**SESSIONS[2], "ends_by_itself_at": "2099-01-01T00:00:00Z"},
        ],
    }
    handle, wid = dialogs.open("sessions", request, "User sessions")
    dialogs.focus(wid)
    dialogs.shot(wid, "dialog-sessions-handover.png")
    # The idle one is preselected and cannot be asked (nobody to warn): Alt+A asks nothing.
    dialogs.key("alt+a")
    assert not handle.done.wait(0.3)
    dialogs.key("Up")  # WALL-3, active: newest first, so above the old idle one
    dialogs.key("alt+a")
    assert handle.wait(15) == {"action": "handover", "session_id": "s-busy"}


def _width(dialogs: DialogDriver, wid: str) -> int:
    shell = dialogs.desktop.xdotool("getwindowgeometry", "--shell", wid)
    return int(dict(line.split("=", 1) for line in shell.split())["WIDTH"])


def test_the_columns_widen_to_their_longest_cells(dialogs: DialogDriver) -> None:
    """ "★ recommended, idle, ends by itself in 14:58 unless used" was cut off at 240 px, and
    widened, cut at "unless used" on a 1024-pixel screen; the countdown has a column of its own
    now. A column widens to its longest cell (AIPIX's device names) while the screen has room,
    in English and in Russian."""
    screen = int(dialogs.desktop.xdotool("getdisplaygeometry").split()[0])
    ending = [
        {**s, "ends_by_itself_at": "2026-11-27T10:14:58Z"} if s["id"] == "s-old-idle" else s
        for s in SESSIONS
    ]
    request: dict[str, object] = {**AT_THE_LIMIT, "sessions": ending}
    widths = {}
    for language in ("en", "ru"):
        handle, wid = dialogs.open("sessions", {**request, "language": language}, TITLES)
        dialogs.shot(wid, f"dialog-sessions-ends-{language}.png")
        widths[language] = _width(dialogs, wid)
        dialogs.focus(wid)
        dialogs.key("Escape")
        assert handle.wait(15) == {"action": "cancel"}
    assert all(width <= screen for width in widths.values()), (widths, screen)
    long_device = [
        {**s, "device": "Chrome 119.0.6045 on Windows 10 Enterprise LTSC"}
        if s["id"] == "s-busy"
        else s
        for s in ending
    ]
    handle, wid = dialogs.open("sessions", {**request, "sessions": long_device}, "User sessions")
    dialogs.shot(wid, "dialog-sessions-long-device.png")
    assert widths["en"] + 40 < _width(dialogs, wid) <= screen
    dialogs.focus(wid)
    dialogs.key("Escape")
    assert handle.wait(15) == {"action": "cancel"}
