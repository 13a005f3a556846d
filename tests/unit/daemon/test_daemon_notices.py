"""The daemon performs the engine's notices: which appear, which are withdrawn, at quit too."""

from __future__ import annotations

from tests.unit.daemon.fakes import Sim
from vms_tray import commands as C
from vms_tray.daemon import notices


def test_end_session_at_the_limit_then_signed_in_says_no_limit_reached() -> None:
    sim = Sim()
    w = sim.office
    others = [w.open("anna", f"PC-{i}") for i in range(3)]
    sim.start()
    assert sim.state() == "limit_reached"
    sim.daemon.end_session(others[0].id)
    sim.settle()
    assert sim.state() == "signed_in"
    assert sim.notifier.kinds() == ["needs_attention"]  # "no free session", nothing after it
    assert sim.notifier.log[:2] == ["notify sign_in: office: no free session", "withdraw sign_in"]
    assert not any("limit" in n.title or "all seats" in n.title for n in sim.notifier.notices)


def test_signed_in_again_withdraws_password_needed() -> None:
    sim = Sim(passwords={})
    sim.start()
    assert sim.notifier.log == ["notify sign_in: office: password needed"]
    sim.daemon.post(C.SignIn(password="pw"))
    sim.settle()
    assert sim.state() == "signed_in"
    assert "withdraw sign_in" in sim.notifier.log[1:]


def test_quit_withdraws_every_notice() -> None:
    sim = Sim()
    sim.start()
    sim.office.open("anna", "PC-1")
    sim.office.open("anna", "PC-2")
    sim.advance(120)
    assert sim.notifier.kinds() == ["limit_full"]
    sim.daemon.stop()
    assert sim.daemon.stopped
    assert sim.notifier.log[-1] == "withdraw *"
    assert "withdraw seats" in sim.notifier.log  # the sign-out itself, before


def test_desktop_notices_have_no_command_lines_headless_ones_do() -> None:
    sim = Sim()
    sim.office.captcha = True
    sim.start()
    assert sim.state() == "captcha_required"
    assert "vms-tray captcha" not in sim.notifier.notices[-1].body

    headless = Sim()
    headless.notifier.cli_hints = True
    headless.office.captcha = True
    headless.start()
    assert "'vms-tray captcha save FILE'" in headless.notifier.notices[-1].body


def test_the_wait_button_waits_for_a_seat() -> None:
    sim = Sim()
    w = sim.office
    for i in range(3):
        w.open("anna", f"PC-{i}")
    sim.start()
    assert sim.state() == "limit_reached"
    sim.daemon._on_action(notices.WAIT_FOR_SEAT)  # what the notifier does for the button
    sim.settle()
    assert sim.daemon.snapshot().waiting_for_seat
