"""Session seats: at the limit (end one, or wait for one), a session ended from another device,
and Quit giving the seat back."""

from __future__ import annotations

import socket

import pytest

from tests.journeys.conftest import PASSWORD
from tests.support.journey import (
    GREY,
    ORANGE,
    RED,
    Journey,
    end_from_device,
    other_device,
    server_sessions,
    sign_out_device,
)
from tests.support.refserver import RefServer

pytestmark = pytest.mark.desktop

HOST = socket.gethostname()


def _devices(server: RefServer) -> list[str]:
    return [s.device for s in server_sessions(server, "anna")]


def _sign_in_at_the_limit(walk: Journey, office: RefServer) -> None:
    """Both seats taken by other devices; the user types the password: the limit window."""
    walk.add_server(office)
    walk.start()
    login = walk.wait_dialog("Sign in", contains="Sign in to a video surveillance server")
    walk.type_into(login, PASSWORD, "Return")


def test_at_the_seat_limit_end_the_recommended_session(walk: Journey, office: RefServer) -> None:
    other_device(office, "anna", PASSWORD, "OPS-PC-12")
    other_device(office, "anna", PASSWORD, "OPS-PC-13")
    _sign_in_at_the_limit(walk, office)
    sessions = walk.wait_dialog("User sessions", contains="OPS-PC-13")
    walk.shot("limit-window")
    assert "2 of 2 sessions in use" in sessions.texts
    assert any("All sessions on Office are in use" in t for t in sessions.texts)
    rows = sessions.rows
    # Newest first (the loaded loop caught the order changing with the second the two
    # sign-ins fell in); the oldest, at the bottom, is recommended and already selected.
    assert [r.text.split(" | ")[0] for r in rows] == ["OPS-PC-13", "OPS-PC-12"]
    assert "recommended" in rows[1].text and rows[1].selected and not rows[0].selected
    assert walk.wait_state("limit_reached")["waiting_for_seat"] is False
    walk.wait_tooltip("Session limit reached")
    walk.wait_icon(GREY, "grey blocked at the limit")
    walk.wait_icon(RED, "red no-entry badge", share=0.03)
    walk.click(sessions, "End now…")  # the server offers handovers: ending at once is "now"
    confirm = walk.wait_dialog("End session?", contains="End the session on OPS-PC-12?")
    walk.shot("confirm")
    walk.click(confirm, "End OPS-PC-12's session")
    walk.wait_state("signed_in", sessions_in_use=2, max_sessions=2)
    walk.wait_no_dialog()
    walk.wait_tooltip("2 of 2 sessions")
    walk.wait_icon(ORANGE, "orange all seats in use")
    walk.shot("signed-in")
    assert sorted(_devices(office)) == sorted(["OPS-PC-13", HOST])


def test_wait_for_a_seat(walk: Journey, office: RefServer) -> None:
    other_device(office, "anna", PASSWORD, "OPS-PC-12")
    second = other_device(office, "anna", PASSWORD, "OPS-PC-13")
    _sign_in_at_the_limit(walk, office)
    sessions = walk.wait_dialog("User sessions", contains="OPS-PC-13")
    walk.click(sessions, "Wait for a free session")
    walk.wait_no_dialog("User sessions")
    walk.wait_state("limit_reached", waiting_for_seat=True)
    walk.wait_tooltip("Waiting for a free session on Office")
    walk.shot("waiting")
    sign_out_device(office, second)  # OPS-PC-13 signs out: a seat frees
    walk.wait_state("signed_in", sessions_in_use=2)
    notice = walk.wait_notice("Office: a seat freed up")
    assert notice["body"] == "Signed in"
    walk.shot("signed-in-by-itself")
    assert sorted(_devices(office)) == sorted(["OPS-PC-12", HOST])
    assert not walk.dialogs()


def test_ended_by_another_device(walk: Journey, office: RefServer) -> None:
    walk.add_server(office)
    walk.store_password("Office", PASSWORD)
    walk.start()
    walk.wait_state("signed_in", sessions_in_use=1)
    ours = server_sessions(office, "anna")[0].id
    wall = other_device(office, "anna", PASSWORD, "WALL-3")
    # The events stream tells the daemon of WALL-3's sign-in; its session list then names
    # WALL-3's software version, which the "ended by" text carries.
    walk.wait_state("signed_in", sessions_in_use=2)
    end_from_device(office, wall, ours)  # someone at WALL-3 ends this computer's session
    assert walk.wait_state("ended")["ended_by"] == "WALL-3 (VMS Client 5.2)"
    notice = walk.wait_notice("Office: signed out")
    assert notice["urgency"] == "CRITICAL"
    assert "WALL-3" in notice["body"], notice
    walk.wait_tooltip("Session ended from WALL-3")
    walk.shot("ended-notice")
    walk.notice_action()  # its button: "Sign in"
    walk.wait_state("signed_in", sessions_in_use=2)
    walk.wait(lambda: walk.notices_displayed() <= 1, 15, "the ended notice withdrawn")
    walk.shot("signed-in-again")
    assert sorted(_devices(office)) == sorted(["WALL-3", HOST])


def test_quit_frees_the_seat(walk: Journey, office: RefServer) -> None:
    walk.add_server(office)
    walk.store_password("Office", PASSWORD)
    walk.start()
    walk.wait_state("signed_in", sessions_in_use=1)
    walk.wait_notice("Office: 1 seat left")
    assert _devices(office) == [HOST]
    walk.shot("signed-in")
    walk.menu("Quit")
    assert walk.expect_exit() == 0
    assert _devices(office) == []
    walk.wait(lambda: walk.notices_displayed() == 0, 10, "no notification left on screen")
    walk.wait(lambda: not walk.desktop.windows("^vms-tray"), 10, "the icon to go")
    assert not walk.dialogs()
    walk.shot("quit")
