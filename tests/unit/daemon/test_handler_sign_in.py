"""The control socket's sign-in and switch: the daemon, not the handler, decides whether a
password is needed, and says so before anything ends."""

from __future__ import annotations

import threading

from tests.unit.daemon.fakes import Sim
from vms_tray import commands as C
from vms_tray.daemon.handler import ControlHandler


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
