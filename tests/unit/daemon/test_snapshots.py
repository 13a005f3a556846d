"""The published snapshot (vms_tray.daemon.snapshots.picture): the engine's view joined with what
the server session knows, for each state a user sees."""

from __future__ import annotations

from tests.unit.daemon.fakes import Sim, World, signed_in_sim
from vms_tray import commands as C
from vms_tray.session.snapshot import State


def test_signed_in_the_snapshot_names_the_server_the_login_and_the_seats() -> None:
    sim = signed_in_sim()
    snap = sim.daemon.snapshot()
    assert (snap.state, snap.server, snap.login, snap.kind) == (
        State.SIGNED_IN,
        "office",
        "anna",
        "native",
    )
    assert (snap.sessions_in_use, snap.max_sessions) == (1, 3)
    assert snap.can_list_sessions and snap.sign_out_frees_seat
    assert snap.error is None and snap.captcha_id is None
    assert [c.name for c in snap.servers] == ["office", "annex"]


def test_a_captcha_on_offer_is_in_the_snapshot_with_its_reason() -> None:
    sim = Sim()
    sim.office.captcha = True
    sim.start()
    snap = sim.daemon.snapshot()
    assert snap.state is State.CAPTCHA_REQUIRED
    assert snap.captcha_id is not None and snap.captcha_reason == "required"


def test_no_password_is_a_daemon_note_shown_as_the_error() -> None:
    sim = Sim(passwords={})
    sim.start()
    snap = sim.daemon.snapshot()
    assert snap.error is not None and "no password" in snap.error.message


def test_signed_out_keeps_the_server_but_no_seat_count() -> None:
    sim = signed_in_sim()
    sim.daemon.post(C.SignOut())
    sim.settle()
    snap = sim.daemon.snapshot()
    assert snap.state is State.SIGNED_OUT and snap.server == "office"
    assert snap.expires_in is None


def test_a_full_account_is_flagged() -> None:
    sim = Sim(worlds=None)
    office: World = sim.office
    office.max_sessions = 1  # our seat is the last one
    sim.start()
    snap = sim.daemon.snapshot()
    assert snap.state is State.SIGNED_IN and snap.full
