"""Protocol v1.1 on the desktop: a graceful handover from both sides, and the queue's place.

The holder hears at once that someone needs its seat (a critical notice with "Release now")
and gives it with one click; a user at the limit asks the holder of a session to hand over
instead of ending it, and gets the seat by itself when the grace runs out.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from typing import Any

import pytest

from tests.journeys.conftest import PASSWORD
from tests.support.journey import Journey, other_device, server_sessions
from tests.support.refserver import RefServer

pytestmark = pytest.mark.desktop

HOST = socket.gethostname()
GRACE = 8  # the handover grace of the server whose holder never answers (seconds)


def _office(make: Callable[..., RefServer], grace: float) -> RefServer:
    return make(
        users={"anna": PASSWORD}, max_sessions=2, extra_args=["--handover-grace", str(grace)]
    )


def _conflict(server: RefServer, device: str) -> dict[str, Any]:
    """``device`` signs in with the password and meets the limit: the session-limit answer."""
    with server.client() as http:
        r = http.post(
            "/api/v1/sessions",
            json={
                "login": "anna",
                "password": PASSWORD,
                "client": {"device": device, "software": "VMS Client", "version": "5.2"},
            },
        )
        assert r.status_code == 409, r.text
        return dict(r.json())


def _ask_handover(server: RefServer, conflict_token: str, session_id: str) -> dict[str, Any]:
    with server.client() as http:
        r = http.post(
            f"/api/v1/sessions/{session_id}/handover",
            json={},
            headers={"Authorization": f"Bearer {conflict_token}"},
        )
        assert r.status_code == 202, r.text
        return dict(r.json())


def _finish_waiting(server: RefServer, conflict_token: str) -> int:
    with server.client() as http:
        r = http.post("/api/v1/sessions", json={"conflict_token": conflict_token, "wait": True})
        return r.status_code


def test_the_holder_hears_a_handover_and_releases_the_seat(
    walk: Journey, refserver_factory: Callable[..., RefServer]
) -> None:
    office = _office(refserver_factory, 120)  # time enough to read the notice and click
    walk.add_server(office)
    walk.store_password("Office", PASSWORD)
    walk.start()
    walk.wait_state("signed_in", sessions_in_use=1)
    other_device(office, "anna", PASSWORD, "OPS-PC-12")
    walk.wait_state("signed_in", sessions_in_use=2)
    ours = next(s.id for s in server_sessions(office, "anna") if s.device == HOST)
    limit = _conflict(office, "OPS-PC-13")
    _ask_handover(office, limit["conflict_token"], ours)
    notice = walk.wait_notice("Office: your seat is needed", timeout=10)
    assert notice["urgency"] == "CRITICAL"
    assert notice["body"].startswith("OPS-PC-13 needs this seat. This session ends in 1")
    assert notice["body"].endswith("seconds — save your work."), notice
    assert walk.status()["handover_by"].startswith("OPS-PC-13")
    walk.wait_tooltip("OPS-PC-13")
    walk.shot("handover-asked")
    walk.notice_action()  # "Release now"
    walk.wait_state("signed_out")
    walk.shot("released")
    # The seat was held for OPS-PC-13: its waiting sign-in finishes.
    assert _finish_waiting(office, limit["conflict_token"]) == 201
    devices = sorted(s.device for s in server_sessions(office, "anna"))
    assert devices == ["OPS-PC-12", "OPS-PC-13"]


def test_at_the_limit_ask_to_hand_over_and_get_the_seat(
    walk: Journey, refserver_factory: Callable[..., RefServer]
) -> None:
    office = _office(refserver_factory, GRACE)
    other_device(office, "anna", PASSWORD, "OPS-PC-12")
    other_device(office, "anna", PASSWORD, "OPS-PC-13")
    walk.add_server(office)
    walk.start()
    login = walk.wait_dialog("Sign in", contains="Sign in to a video surveillance server")
    walk.type_into(login, PASSWORD, "Return")
    sessions = walk.wait_dialog("User sessions", contains="OPS-PC-13")
    # Seat estimates: each session says when it ends by itself.
    assert all(re.search(r"\bin \d+:\d\d\b", r.text) for r in sessions.rows), [
        r.text for r in sessions.rows
    ]
    walk.shot("limit-window-handover")
    walk.click(sessions, "Ask to hand over")
    walk.wait_no_dialog("User sessions")
    status = walk.wait_state("limit_reached", waiting_for_seat=True)
    assert status["handover_asked_of"] == "OPS-PC-12"  # the recommended (oldest) one
    notice = walk.wait_notice("Office: asked OPS-PC-12 to hand over")
    assert notice["urgency"] == "NORMAL" and "save their work" in notice["body"]
    walk.wait_tooltip("Waiting for OPS-PC-12 to hand over its seat (by ")
    walk.shot("waiting-for-the-handover")
    # The holder (a client that never answers) lets the grace run out: the seat comes by itself.
    walk.wait_state("signed_in", timeout=GRACE + 40, sessions_in_use=2)
    notice = walk.wait_notice("Office: a seat freed up")
    assert notice["body"] == "Signed in"
    devices = sorted(s.device for s in server_sessions(office, "anna"))
    assert devices == sorted([HOST, "OPS-PC-13"]), (devices, status)
    assert walk.status()["handover_asked_of"] is None
    walk.shot("signed-in-after-the-handover")
