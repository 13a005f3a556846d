"""Signing in: the first run without a stored password, and a server whose certificate is not
trusted yet."""

from __future__ import annotations

import socket

import pytest

from tests.journeys.conftest import PASSWORD
from tests.support.journey import Journey, server_sessions
from tests.support.refserver import RefServer

pytestmark = pytest.mark.desktop


def test_first_run(walk: Journey, office: RefServer) -> None:
    """No password stored: the sign-in dialog opens by itself; typing the password signs in,
    and the server lists this computer's session."""
    walk.add_server(office)
    walk.start()
    login = walk.wait_dialog("Sign in", contains="Sign in to a video surveillance server")
    assert "Office" in login.texts and "anna" in login.texts
    assert PASSWORD not in login.text
    walk.shot("sign-in-dialog")
    walk.type_into(login, PASSWORD)
    typed = walk.wait_dialog("Sign in", where=lambda d: "•••" in d.texts)
    assert PASSWORD not in typed.text  # a password field is never read back
    walk.shot("password-typed")
    walk.keys(typed, "Return")
    status = walk.wait_state("signed_in", server="Office", login="anna")
    assert status["sessions_in_use"] == 1 and status["max_sessions"] == 2
    walk.wait_no_dialog("Sign in")
    walk.wait_tooltip("1 of 2 sessions")
    walk.shot("signed-in")
    sessions = server_sessions(office, "anna")
    assert [s.device for s in sessions] == [socket.gethostname()]
    assert sessions[0].software == "vms-tray"
    assert PASSWORD not in walk.log_text()
