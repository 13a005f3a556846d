"""Each dialog opens on a real X server, is filled by typing into real Tk widgets, and answers."""

from __future__ import annotations

from functools import partial

import pytest

from tests.desktop.conftest import DialogDriver
from tests.support import components

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


def _count(dialogs: DialogDriver, event: str) -> int:
    return sum(1 for e in dialogs.events if e["event"] == event)


def _seen(dialogs: DialogDriver, event: str, count: int) -> bool:
    return _count(dialogs, event) == count


def _refresh_again(dialogs: DialogDriver, count: int) -> bool:
    """Press Refresh (F5); True once the dialog has sent ``count`` refresh events."""
    dialogs.key("F5")
    return _count(dialogs, "refresh") >= count


def test_live_login_stays_open_on_a_wrong_password_with_the_field_selected(
    dialogs: DialogDriver,
) -> None:
    handle, wid = dialogs.open("login", {"servers": SERVERS, "live": True}, "Sign in")
    dialogs.focus(wid)
    dialogs.type("wrong")
    dialogs.key("Return")

    def submits() -> list[dict[str, object]]:
        return [e for e in dialogs.events if e["event"] == "submit"]

    components.wait_until(lambda: len(submits()) == 1, 10, "the first sign-in")
    assert submits()[0]["password"] == "wrong"
    # Busy: a second Enter sends nothing until the tray answers.
    dialogs.key("Return")
    assert not handle.done.wait(0.3) and len(submits()) == 1
    error = {"kind": "credentials", "message": "wrong login or password"}
    for attempt in (2, 3):  # the second wrong password keeps the dialog too
        assert handle.send_update({"error": error})
        components.wait_until(
            partial(_seen, dialogs, "error_shown", attempt - 1), 10, "the error shown"
        )
        dialogs.shot(wid, f"dialog-login-wrong-{attempt - 1}.png")
        # The password field is selected: what is typed replaces the wrong password.
        dialogs.type(f"right{attempt}")
        dialogs.key("Return")
        components.wait_until(partial(_seen, dialogs, "submit", attempt), 10, "a sign-in")
        assert submits()[-1]["password"] == f"right{attempt}"
        assert not handle.done.is_set()
    handle.close()
    assert handle.wait(10) == {"action": "cancel"}


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


def test_login_shows_untrusted_certificate_and_trust_choice(dialogs: DialogDriver) -> None:
    fp = ":".join(["AB", "CD", "EF", "01", "23", "45", "67", "89"] * 4)
    request = {
        "servers": SERVERS,
        "server": "Branch",
        "error": {"kind": "untrusted", "message": "certificate not trusted", "fingerprint": fp},
    }
    handle, wid = dialogs.open("login", request, "Sign in")
    dialogs.focus(wid)
    dialogs.shot(wid, "dialog-login-untrusted.png")
    # Without ticking "trust", Enter is refused inline; the dialog stays open.
    dialogs.key("Return")
    assert not handle.done.wait(0.5)
    # Tab order from the password field: remember, fingerprint (read-only), trust.
    dialogs.key("Tab", "Tab", "Tab", "space")
    dialogs.key("Return")
    answer = handle.wait(15)
    assert answer is not None
    assert answer["action"] == "login"
    assert answer["server"] == "Branch"
    assert answer["login"] == "guard"
    # Branch has a saved password: an empty field means "use it".
    assert answer["password"] is None
    assert answer["trust_fingerprint"] == fp


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


def test_servers_add_rules_and_save(dialogs: DialogDriver) -> None:
    handle, wid = dialogs.open("connections", {"connections": []}, "Video surveillance servers")
    dialogs.focus(wid)
    dialogs.type("HQ")
    dialogs.key("Tab")
    dialogs.type("hq.example.com:8443")
    dialogs.key("Tab")
    dialogs.type("operator")
    dialogs.key("Return")  # Enter in the form adds the server and clears the form
    dialogs.type("Branch")
    dialogs.key("Tab")
    dialogs.type("http://branch.example.com")  # refused inline: https only
    dialogs.key("Tab")
    dialogs.type("guard")
    dialogs.key("Return")
    dialogs.shot(wid, "dialog-servers-error.png")
    dialogs.key("shift+Tab")  # back into the address (keyboard traversal selects it all)
    dialogs.type("branch.example.com")
    dialogs.key("Return")
    dialogs.shot(wid, "dialog-servers.png")
    dialogs.key("ctrl+s")
    answer = handle.wait(15)
    assert answer is not None and answer["action"] == "save"
    # https:// was added; the first server became the default.
    assert [(c["name"], c["url"], c["login"], c["default"]) for c in answer["connections"]] == [
        ("HQ", "https://hq.example.com:8443", "operator", True),
        ("Branch", "https://branch.example.com", "guard", False),
    ]
    assert [c["original"] for c in answer["connections"]] == [None, None]  # both added here


def test_servers_default_cannot_be_deleted(dialogs: DialogDriver) -> None:
    conns = [
        {"name": "HQ", "url": "https://hq.example.com", "login": "op", "default": True},
        {"name": "Branch", "url": "https://b.example.com", "login": "g", "default": False},
    ]
    handle, wid = dialogs.open("connections", {"connections": conns}, "Video surveillance servers")
    dialogs.focus(wid)
    dialogs.key("Delete")  # HQ, the default, is selected: refused inline
    dialogs.key("Down", "Delete")  # Branch goes
    dialogs.key("ctrl+s")
    answer = handle.wait(15)
    assert answer is not None
    assert [c["name"] for c in answer["connections"]] == ["HQ"]
    assert answer["connections"][0]["original"] == "HQ"


def test_servers_rename_carries_the_original_name(dialogs: DialogDriver) -> None:
    conns = [{"name": "HQ", "url": "https://hq.example.com", "login": "op", "default": True}]
    handle, wid = dialogs.open("connections", {"connections": conns}, "Video surveillance servers")
    dialogs.focus(wid)
    dialogs.key("Tab")  # from the table (HQ selected, the form filled) into the name, all selected
    dialogs.type("Head office")
    dialogs.key("Return")  # Enter with a server selected updates it
    dialogs.key("ctrl+s")
    answer = handle.wait(15)
    assert answer is not None and answer["action"] == "save"
    assert [(c["name"], c["original"]) for c in answer["connections"]] == [("Head office", "HQ")]


SESSIONS = [
    {
        "id": "s-mine",
        "device": "THIS-PC",
        "software": "vms-tray",
        "version": "0.1.0",
        "address": "10.0.0.5",
        "started_at": "2026-11-27T08:00:00Z",
        "last_activity": "2026-11-27T09:59:00Z",
        "idle": False,
        "current": True,
    },
    {
        "id": "s-old-idle",
        "device": "OPS-PC-12",
        "software": "VMS Client",
        "version": "5.2",
        "address": "10.0.0.12",
        "started_at": "2026-11-26T07:00:00Z",
        "last_activity": "2026-11-27T06:00:00Z",
        "idle": True,
        "current": False,
    },
    {
        "id": "s-busy",
        "device": "WALL-3",
        "software": "VMS Client",
        "version": "5.2",
        "address": "10.0.0.30",
        "started_at": "2026-11-27T05:00:00Z",
        "last_activity": "2026-11-27T09:58:00Z",
        "idle": False,
        "current": False,
    },
]


def test_sessions_end_the_recommended_one_after_confirming(dialogs: DialogDriver) -> None:
    request = {
        "server": "HQ",
        "conflict": True,
        "max": 3,
        "active": 3,
        "now": "2026-11-27T10:00:00Z",
        "sessions": SESSIONS,
    }
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


def test_about_closes_on_enter(dialogs: DialogDriver) -> None:
    handle, wid = dialogs.open(
        "about", {"version": "0.1.0", "status": "Signed in to HQ as operator"}, "About"
    )
    dialogs.focus(wid)
    dialogs.shot(wid, "dialog-about.png")
    dialogs.key("Return")
    assert handle.wait(15) == {"action": "close"}


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


def test_dialogs_speak_russian(dialogs: DialogDriver) -> None:
    request = {
        "language": "ru",
        "server": "HQ",
        "conflict": True,
        "max": 3,
        "active": 3,
        "now": "2026-11-27T10:00:00Z",
        "sessions": SESSIONS,
    }
    # xdotool matches the Latin-1 WM_NAME: look for the ASCII tail of the Russian title.
    handle, wid = dialogs.open("sessions", request, "vms-tray$")
    dialogs.shot(wid, "dialog-sessions-ru.png")
    dialogs.focus(wid)
    dialogs.key("Escape")
    assert handle.wait(15) == {"action": "cancel"}
