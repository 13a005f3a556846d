"""The sign-in dialog on a real X server: typed into, answered, kept open on a wrong password."""

from __future__ import annotations

from functools import partial

import pytest

from tests.desktop.conftest import DialogDriver
from tests.desktop.dialogs.helpers import SERVERS, count_events
from tests.support import components

pytestmark = pytest.mark.desktop


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


def _seen(dialogs: DialogDriver, event: str, count: int) -> bool:
    return count_events(dialogs, event) == count


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


def test_login_offers_no_remember_when_the_policy_forbids_it(dialogs: DialogDriver) -> None:
    request = {
        "servers": SERVERS,
        "remember": True,
        "remember_forbidden": "/etc/xdg/vms-tray/policy.toml",
    }
    handle, wid = dialogs.open("login", request, "Sign in")
    dialogs.focus(wid)
    dialogs.type("s3cret pass")
    dialogs.shot(wid, "dialog-login-no-remember.png")
    dialogs.key("Return")
    answer = handle.wait(15)
    assert answer is not None and answer["remember"] is False
