"""The dialogs a sign-in walks through: wrong passwords said in the dialog, the captcha with
Refresh and wrong/right answers, and switching servers with and without a stored password."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest

from tests.journeys.conftest import PASSWORD
from tests.support.journey import DialogWindow, Journey, server_sessions
from tests.support.refserver import RefServer, refserver_factory  # noqa: F401 - fixture

pytestmark = pytest.mark.desktop

WRONG = "refused the login or password"


def _newest_captcha(server: RefServer) -> tuple[str, str]:
    """The captcha the server issued last (its id and answer): the one on screen."""
    lines = server.captcha_log.read_text(encoding="utf-8").splitlines()
    cid, _, answer = lines[-1].partition(" ")
    return cid, answer


def test_wrong_passwords_then_the_captcha_with_refresh(
    walk: Journey,
    refserver_factory: Callable[..., RefServer],  # noqa: F811
) -> None:
    """Each wrong password is said in the same open dialog (the second one too), the password
    selected; when the server wants a captcha the dialog turns into it; Refresh shows a new
    picture; a wrong answer says so beside a new one; the right one signs in."""
    office = refserver_factory(users={"anna": PASSWORD}, max_sessions=2, captcha="after-failures")
    walk.add_server(office)
    walk.start()
    login = walk.wait_dialog("Sign in", contains="Sign in to a video surveillance server")
    captcha: DialogWindow | None = None
    for attempt in range(1, 6):
        walk.type_into(login, f"wrong-{attempt}", "Return")
        walk.wait(
            lambda: any(d.title.startswith("Captcha") or WRONG in d.text for d in walk.dialogs()),
            30,
            f"the answer to wrong password {attempt}",
        )
        shown = walk.dialogs()
        captcha = next((d for d in shown if d.title.startswith("Captcha")), None)
        if captcha is not None:
            assert not any(d.title.startswith("Sign in") for d in shown)
            break
        login = walk.wait_dialog("Sign in", contains=WRONG)
        # The dialog says it: no "sign-in failed" notice beside it.
        walk.wait(lambda: walk.notices_displayed() == 0, 15, "the sign-in notice withdrawn")
        walk.shot(f"wrong-password-{attempt}")
        assert walk.status()["state"] == "error"
    assert captcha is not None, "no captcha after five wrong passwords"
    # The README's "wrong passwords twice bring up the captcha": the third try asks for it.
    assert attempt == 3, f"the captcha came at attempt {attempt}, not after two wrong passwords"
    walk.shot("captcha")
    first, _ = _newest_captcha(office)
    # Refresh: the server issues a new picture and the dialog shows it (it once hung here).
    walk.keys(captcha, "F5")
    walk.wait(lambda: _newest_captcha(office)[0] != first, 10, "a new picture from the server")
    captcha = walk.wait_dialog(
        "Captcha", contains="Valid for", where=lambda d: "Refresh" in d.texts
    )
    walk.shot("captcha-refreshed")
    walk.type_into(captcha, "WRONG9", "Return")
    answer_wrong = walk.wait_dialog("Captcha", contains="Wrong characters, try the new picture.")
    with contextlib.suppress(TimeoutError):  # for the screenshot: the new picture's countdown
        walk.wait_dialog(
            "Captcha", timeout=5, where=lambda d: any(t.startswith("Valid for") for t in d.texts)
        )
    walk.shot("captcha-wrong-answer")
    assert walk.status()["state"] == "captcha_required"
    _cid, answer = _newest_captcha(office)
    walk.type_into(answer_wrong, answer, "Return")
    # The right characters with a wrong password: back in the sign-in dialog, error inline.
    walk.wait(
        lambda: walk.status()["state"] in ("error", "signed_in", "captcha_required"),
        30,
        "the sign-in with the right characters",
    )
    if walk.status()["state"] == "error":
        login = walk.wait_dialog("Sign in", contains=WRONG)
        walk.wait(lambda: walk.notices_displayed() == 0, 15, "the sign-in notice withdrawn")
        walk.shot("wrong-password-after-captcha")
        walk.type_into(login, PASSWORD, "Return")
        walk.wait(
            lambda: walk.status()["state"] in ("signed_in", "captcha_required"),
            30,
            "the sign-in with the right password",
        )
        if walk.status()["state"] == "captcha_required":
            captcha = walk.wait_dialog("Captcha")
            _cid, answer = _newest_captcha(office)
            walk.type_into(captcha, answer, "Return")
    walk.wait_state("signed_in", server="Office")
    walk.wait_no_dialog("Captcha")
    walk.wait_no_dialog("Sign in")
    walk.shot("signed-in")
    assert len(server_sessions(office, "anna")) == 1


def _signed_in_beside(
    walk: Journey,
    office: RefServer,
    factory: Callable[..., RefServer],
    name: str,
    stored: bool,
) -> RefServer:
    """Signed in to Office (stored password), with a second server ``name`` in the list
    (its password stored too when ``stored``): where a switch journey starts."""
    annex = factory(users={"anna": PASSWORD}, max_sessions=2)
    walk.add_server(office)
    walk.add_server(annex, name=name)
    walk.store_password("Office", PASSWORD)
    if stored:
        walk.store_password(name, PASSWORD)
    walk.start()
    walk.wait_state("signed_in", server="Office")
    return annex


def test_switch_without_a_stored_password_asks_first_and_cancel_keeps_the_seat(
    walk: Journey,
    office: RefServer,
    refserver_factory: Callable[..., RefServer],  # noqa: F811
) -> None:
    annex = _signed_in_beside(walk, office, refserver_factory, "Склад №2", stored=False)
    walk.menu("Servers", "Склад №2")
    login = walk.wait_dialog("Sign in", contains="ends your session on Office")
    assert "Склад №2" in login.texts
    walk.shot("asked-for-the-password")
    assert walk.status()["server"] == "Office"  # nothing given up yet
    walk.keys(login, "Escape")
    walk.wait_no_dialog("Sign in")
    status = walk.wait_state("signed_in", server="Office")
    assert status["server"] == "Office"
    assert len(server_sessions(office, "anna")) == 1
    walk.shot("cancelled")
    walk.menu("Servers", "Склад №2")
    login = walk.wait_dialog("Sign in", contains="ends your session on Office")
    walk.type_into(login, PASSWORD, "Return")
    walk.wait_state("signed_in", server="Склад №2")
    walk.wait_no_dialog("Sign in")
    walk.shot("switched")
    assert server_sessions(office, "anna") == []
    assert len(server_sessions(annex, "anna")) == 1


def test_switch_with_a_stored_password_goes_at_once(
    walk: Journey,
    office: RefServer,
    refserver_factory: Callable[..., RefServer],  # noqa: F811
) -> None:
    annex = _signed_in_beside(walk, office, refserver_factory, "Annex", stored=True)
    walk.menu("Servers", "Annex")
    walk.wait_state("signed_in", server="Annex")
    walk.wait_tooltip("Annex")
    walk.shot("switched")
    assert not any(d.title.startswith("Sign in") for d in walk.dialogs())
    assert server_sessions(office, "anna") == []
    assert len(server_sessions(annex, "anna")) == 1


def test_a_switch_to_a_server_that_is_down_keeps_the_seat(
    walk: Journey,
    office: RefServer,
    refserver_factory: Callable[..., RefServer],  # noqa: F811
) -> None:
    """Servers ▸ Annex while Annex is down: the sign-in dialog says why and that Office's
    session goes on; nothing is given up."""
    annex = _signed_in_beside(walk, office, refserver_factory, "Annex", stored=True)
    annex.stop()
    walk.menu("Servers", "Annex")
    login = walk.wait_dialog("Sign in", contains="you are still signed in to Office")
    assert "will retry" not in " ".join(login.texts)
    walk.shot("switch-refused")
    status = walk.status()
    assert status["state"] == "signed_in" and status["server"] == "Office"
    assert len(server_sessions(office, "anna")) == 1
    walk.keys(login, "Escape")
    walk.wait_no_dialog("Sign in")
    walk.wait_state("signed_in", server="Office")
    assert len(server_sessions(office, "anna")) == 1


def test_a_switch_with_a_wrong_password_keeps_the_seat(
    walk: Journey,
    office: RefServer,
    refserver_factory: Callable[..., RefServer],  # noqa: F811
) -> None:
    """Servers ▸ Annex, a mistyped password: the dialog says so and that Office's session goes
    on; the right one then switches."""
    annex = _signed_in_beside(walk, office, refserver_factory, "Annex", stored=False)
    walk.menu("Servers", "Annex")
    login = walk.wait_dialog("Sign in", contains="ends your session on Office")
    walk.type_into(login, "not the password", "Return")
    login = walk.wait_dialog("Sign in", contains="you are still signed in to Office")
    walk.shot("wrong-password-kept-the-seat")
    status = walk.status()
    assert status["state"] == "signed_in" and status["server"] == "Office"
    assert len(server_sessions(office, "anna")) == 1 and server_sessions(annex, "anna") == []
    walk.type_into(login, PASSWORD, "Return")
    walk.wait_state("signed_in", server="Annex")
    walk.wait_no_dialog("Sign in")
    assert server_sessions(office, "anna") == [] and len(server_sessions(annex, "anna")) == 1


def test_an_expired_captcha_says_so(
    walk: Journey,
    refserver_factory: Callable[..., RefServer],  # noqa: F811
) -> None:
    """The characters typed after the picture expired on the server: the dialog says the
    picture expired, beside a new one, and the new one's answer signs in."""
    office = refserver_factory(users={"anna": PASSWORD}, max_sessions=2, captcha="always")
    walk.add_server(office)
    walk.start()
    login = walk.wait_dialog("Sign in", contains="Sign in to a video surveillance server")
    walk.type_into(login, PASSWORD, "Return")
    captcha = walk.wait_dialog("Captcha", contains="Valid for")
    _cid, answer = _newest_captcha(office)
    office.advance_clock(120)  # the server's minute is over; our countdown has not run out
    walk.type_into(captcha, answer, "Return")
    again = walk.wait_dialog("Captcha", contains="That picture expired")
    walk.shot("expired")
    _cid, answer = _newest_captcha(office)
    walk.type_into(again, answer, "Return")
    walk.wait_state("signed_in", server="Office")
    walk.wait_no_dialog("Captcha")
    walk.shot("signed-in")
