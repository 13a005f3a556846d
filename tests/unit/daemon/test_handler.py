"""Control requests answered from the daemon's thread-safe API: status, sessions, sign-in and
switch (the daemon, not the handler, decides whether a password is needed, and says so before
anything ends), and the requests it refuses."""

from __future__ import annotations

import threading

import pytest

from tests.unit.daemon.fakes import FakeClock, Sim
from vms_tray import commands as C
from vms_tray import control
from vms_tray.daemon.handler import ControlHandler
from vms_tray.errors import ControlError, InvalidInput, Unsupported


def test_signed_in_without_a_stored_password_a_sign_in_there_just_checks() -> None:
    sim = Sim(passwords={})
    sim.start()
    assert sim.state() == "signed_out"
    sim.daemon.execute(C.SignIn(password="pw"))  # typed, not remembered
    assert sim.state() == "signed_in"
    handler = ControlHandler(sim.daemon)
    calls = len(sim.office.calls)
    assert handler({"cmd": "signin"}) == {"password_required": False}
    assert sim.state() == "signed_in" and "sign_in" not in sim.office.calls[calls:]


def test_a_password_is_asked_for_only_where_none_is_stored() -> None:
    sim = Sim(passwords={"office": "pw"})
    sim.start()
    handler = ControlHandler(sim.daemon)
    assert handler({"cmd": "switch", "name": "annex"}) == {"password_required": True}
    assert sim.state() == "signed_in" and sim.daemon.snapshot().server == "office"
    reply = handler({"cmd": "switch", "name": "annex", "password": "pw"})
    assert reply == {"password_required": False}
    assert sim.daemon.snapshot().server == "annex"


def test_has_password_is_answered_by_the_worker() -> None:
    sim = Sim(passwords={"office": "pw"})
    seen: list[str] = []
    real = sim.passwords.get

    def get(conn: object) -> str | None:
        seen.append(threading.current_thread().name)
        return real(conn)  # type: ignore[arg-type]

    sim.passwords.get = get  # type: ignore[method-assign,assignment]
    sim.daemon.start(thread=True)
    try:
        assert sim.daemon.has_password("office") is True
        assert sim.daemon.has_password("annex") is False
        assert seen and set(seen) == {"daemon"}
    finally:
        sim.daemon.stop()


def test_which_servers_have_a_password_for_the_server_list() -> None:
    sim = Sim(passwords={"office": "pw"})
    sim.start()
    handler = ControlHandler(sim.daemon)
    reply = handler({"cmd": "passwords", "names": ["office", "annex", "unknown"]})
    assert reply == {"office": True, "annex": False, "unknown": None}
    with pytest.raises(InvalidInput):
        handler({"cmd": "passwords", "names": "office"})


def test_handler_over_the_socket_with_a_real_daemon() -> None:
    sim = Sim()
    sim.daemon.start(thread=True)
    server = control.ControlServer(ControlHandler(sim.daemon))
    server.start()
    try:
        status = control.request("status")
        assert status["state"] == "signed_in" and status["server"] == "office"
        assert set(status) >= {
            "state",
            "server",
            "login",
            "sessions_in_use",
            "max_sessions",
            "expires_in",
            "last_error",
        }
        listing = control.request("sessions")
        assert listing["limit"] == {"scope": "account", "max": 3, "active": 1}
        assert listing["sessions"][0]["current"] is True
        with pytest.raises(control.RemoteError, match="no captcha"):
            control.request("captcha")
        with pytest.raises(ControlError, match="unknown control command"):
            control.request("frobnicate")
        control.request("quit")
        assert sim.daemon.wait_stopped(5)
        assert sim.office.sessions == {}
    finally:
        server.close()


def test_sessions_of_a_kind_that_cannot_list_them() -> None:
    from tests.unit.daemon.fakes import ReauthServer, World

    worlds = {"office": World(FakeClock()), "annex": World(FakeClock())}
    sim = Sim(worlds=worlds, server_class=ReauthServer)
    sim.start()
    assert sim.state() == "signed_in"
    assert sim.daemon.snapshot().can_list_sessions is False
    handler = ControlHandler(sim.daemon)
    with pytest.raises(Unsupported) as info:
        handler({"cmd": "sessions"})
    assert str(info.value) == "this server does not report sessions"
