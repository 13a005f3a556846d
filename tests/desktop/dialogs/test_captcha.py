"""The captcha dialog on a real X server: the answer, Refresh, and pictures that expire."""

from __future__ import annotations

import pytest

from tests.desktop.conftest import DialogDriver
from tests.desktop.dialogs.helpers import count_events
from tests.support import components

pytestmark = pytest.mark.desktop


def _refresh_again(dialogs: DialogDriver, count: int) -> bool:
    """Press Refresh (F5); True once the dialog has sent ``count`` refresh events."""
    dialogs.key("F5")
    return count_events(dialogs, "refresh") >= count


def test_live_captcha_refresh_that_gets_no_answer_gives_refresh_back(
    dialogs: DialogDriver,
) -> None:
    request = {
        "server": "HQ",
        "image_png_b64": _png("K7WQ2"),
        "expires_in": 60,
        "live": True,
        "refresh_timeout": 1,
    }
    handle, wid = dialogs.open("captcha", request, "Captcha")
    dialogs.focus(wid)

    def refreshes() -> int:
        return sum(1 for e in dialogs.events if e["event"] == "refresh")

    dialogs.key("F5")
    components.wait_until(lambda: refreshes() == 1, 10, "the refresh event")
    # No picture comes: after refresh_timeout the dialog says so and Refresh works again.
    components.wait_until(lambda: _refresh_again(dialogs, 2), 10, "Refresh usable again")
    dialogs.shot(wid, "dialog-captcha-refresh-failed.png")
    # A failure the tray reports gives Refresh back at once.
    assert handle.send_update({"refresh_failed": True, "error": "HQ does not answer"})
    components.wait_until(lambda: _refresh_again(dialogs, 3), 10, "Refresh after a failure")
    shown = sum(e["event"] == "shown" for e in dialogs.events)
    assert handle.send_update({"image_png_b64": _png("ABC12"), "expires_in": 60})
    components.wait_until(
        lambda: sum(e["event"] == "shown" for e in dialogs.events) > shown, 10, "the picture"
    )
    dialogs.type("ABC12")
    dialogs.key("Return")
    components.wait_until(
        lambda: any(e["event"] == "answer" for e in dialogs.events), 10, "the answer"
    )
    assert [e for e in dialogs.events if e["event"] == "answer"] == [
        {"event": "answer", "answer": "ABC12"}
    ]
    # A wrong answer: a new picture with the reason, the dialog still open.
    assert handle.send_update(
        {"image_png_b64": _png("NEW42"), "expires_in": 0, "error": "Wrong characters"}
    )
    # expires_in 0: already expired, so it asks for a new one at once (no dead countdown).
    components.wait_until(
        lambda: any(e.get("expired") for e in dialogs.events), 10, "the expired refresh"
    )
    assert not handle.done.is_set()


def _png(text: str) -> str:
    import base64
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (160, 50), "white")
    ImageDraw.Draw(img).text((20, 18), text, fill="black")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def test_captcha_answer_refresh_and_expiry(dialogs: DialogDriver) -> None:
    handle, wid = dialogs.open(
        "captcha", {"server": "HQ", "image_png_b64": _png("K7WQ2"), "expires_in": 60}, "Captcha"
    )
    dialogs.focus(wid)
    dialogs.shot(wid, "dialog-captcha.png")
    components.wait_until(lambda: len(dialogs.events) >= 1, 10, "the first picture")

    def refreshes() -> list[dict[str, object]]:
        return [e for e in dialogs.events if e["event"] == "refresh"]

    def shown() -> int:
        return sum(1 for e in dialogs.events if e["event"] == "shown")

    dialogs.key("F5")
    components.wait_until(lambda: bool(refreshes()), 10, "the refresh event")
    assert refreshes()[0] == {"event": "refresh", "expired": False}
    # The tray answers with a new picture valid for one second: the dialog asks again by itself.
    assert handle.send_update({"image_png_b64": _png("ZZ9"), "expires_in": 1})
    components.wait_until(lambda: len(refreshes()) >= 2, 10, "the automatic refresh")
    assert refreshes()[1] == {"event": "refresh", "expired": True}
    assert handle.send_update({"image_png_b64": _png("ABC12"), "expires_in": 60})
    components.wait_until(lambda: shown() >= 3, 10, "the third picture")
    dialogs.type("ABC12")
    dialogs.key("Return")
    assert handle.wait(15) == {"action": "answer", "answer": "ABC12"}
