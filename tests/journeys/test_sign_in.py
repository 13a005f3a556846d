"""Signing in: the first run without a stored password, and a server whose certificate is not
trusted yet."""

from __future__ import annotations

import socket

import pytest

from tests.journeys.conftest import PASSWORD
from tests.support.journey import AMBER, Journey, server_sessions
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
    walk.wait_icon(AMBER, "amber one seat left")
    walk.shot("signed-in")
    sessions = server_sessions(office, "anna")
    assert [s.device for s in sessions] == [socket.gethostname()]
    assert sessions[0].software == "vms-tray"
    assert PASSWORD not in walk.log_text()


def test_untrusted_certificate_trusted_in_the_sign_in_dialog(
    walk: Journey, office: RefServer
) -> None:
    """A self-signed server the connection does not trust: the sign-in dialog shows its
    fingerprint; ticking "Trust this certificate" signs in and pins exactly that certificate."""
    walk.add_server(office, trusted=False)
    walk.start()
    login = walk.wait_dialog("Sign in", contains="Sign in to a video surveillance server")
    walk.type_into(login, PASSWORD, "Return")
    login = walk.wait_dialog("Sign in", contains="certificate is not trusted")
    walk.shot("untrusted")
    assert office.fingerprint in login.texts  # the fingerprint field, whole
    trust = login.widget("Trust this certificate for this server")
    assert not trust.selected
    assert walk.status()["state"] != "signed_in"
    walk.click(login, "Trust this certificate for this server")
    login = walk.wait_dialog(
        "Sign in",
        where=lambda d: d.widget("Trust this certificate for this server").selected,
    )
    walk.shot("trust-ticked")
    walk.click(login, "Sign in", cls="TButton")
    walk.wait_state("signed_in", server="Office")
    walk.wait_no_dialog("Sign in")
    walk.shot("signed-in")
    listed = walk.cli("servers", "list", "--json")
    assert office.fingerprint.replace(":", "").lower() in listed.replace(":", "").lower()
    assert [s.device for s in server_sessions(office, "anna")] == [socket.gethostname()]
