"""The server session: which connection is in use (renamed, edited), its tokens, the sign-in
in progress, and what it tells the snapshot."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.unit.daemon.fakes import FakeClock, ReauthServer, Sim, World, signed_in_sim
from vms_tray import commands as C
from vms_tray.connections.model import Connection
from vms_tray.daemon.link import endpoint, followed, frees_seat
from vms_tray.errors import EndedBy, EngineError, InvalidInput, Unsupported


def test_renaming_the_server_in_use_follows_it_without_a_new_sign_in() -> None:
    sim = signed_in_sim()
    office = sim.connections.conns.pop("office")
    sim.connections.conns["head office"] = replace(office, name="head office")
    sim.worlds["head office"] = sim.office
    sim.daemon.post(C.ReloadConfig())
    sim.settle()
    snap = sim.daemon.snapshot()
    assert snap.state == "signed_in" and snap.server == "head office"
    assert [c.name for c in snap.servers] == ["annex", "head office"]
    assert len(sim.office.sessions) == 1 and len(sim.built) == 1
    # "Sign in" on the renamed server in use is a check, not a second seat.
    sim.daemon.post(C.SignIn())
    sim.settle()
    assert len(sim.office.sessions) == 1 and len(sim.built) == 1


def test_editing_the_address_in_use_keeps_the_session_and_applies_at_the_next_sign_in() -> None:
    sim = signed_in_sim()
    moved = replace(sim.connections.conns["office"], url="https://new.office.example")
    sim.connections.conns["office"] = moved
    sim.daemon.post(C.ReloadConfig())
    sim.settle()
    assert sim.state() == "signed_in" and len(sim.built) == 1
    sim.daemon.post(C.SignOut())
    sim.daemon.post(C.SignIn())
    sim.settle()
    assert sim.state() == "signed_in"
    assert [c.url for c in sim.built] == [sim.built[0].url, "https://new.office.example"]


def test_tokens_are_registered_as_secrets() -> None:
    sim = signed_in_sim()
    sim.advance(400)
    ours = next(s for s in sim.office.sessions.values() if s.device == "TEST-PC")
    assert ours.access in sim.secrets and ours.refresh in sim.secrets and "pw" in sim.secrets


def test_the_snapshot_says_whether_sign_out_frees_a_seat() -> None:
    from vms_tray.connections.model import Connection
    from vms_tray.daemon.link import frees_seat

    assert frees_seat(Connection("zm", "https://zm.example", "u", kind="zoneminder")) is False
    assert frees_seat(Connection("hq", "https://hq.example", "u")) is True
    assert frees_seat(None) is True


OFFICE = Connection("office", "https://office.example", "anna")


def test_a_reloaded_list_is_followed_by_name_then_by_the_only_same_endpoint() -> None:
    listed = [Connection("annex", "https://annex.example", "anna"), OFFICE]
    assert followed(OFFICE, listed) is OFFICE
    # Names compare as the rules do ("Office" is the same entry as "office").
    edited = Connection("Office", "https://new.office.example", "anna")
    assert followed(OFFICE, [edited]) is edited
    renamed = Connection("head office", "https://office.example", "anna")
    assert followed(OFFICE, [listed[0], renamed]) is renamed
    # Two entries on the same endpoint: which one is ours cannot be told.
    twin = Connection("office 2", "https://office.example", "anna")
    assert followed(OFFICE, [renamed, twin]) is None
    assert followed(OFFICE, [listed[0]]) is None  # removed


def test_what_a_live_session_depends_on() -> None:
    base = endpoint(OFFICE)
    assert endpoint(replace(OFFICE, name="head office", default=True)) == base
    assert endpoint(replace(OFFICE, url="https://new.office.example")) != base
    assert endpoint(replace(OFFICE, login="boris")) != base
    assert endpoint(replace(OFFICE, kind="zoneminder")) != base


def test_an_unknown_kind_is_assumed_to_free_its_seat() -> None:
    assert frees_seat(replace(OFFICE, kind="no-such-kind")) is True


def test_ending_another_session_while_signed_in() -> None:
    sim = signed_in_sim()
    other = sim.office.open("anna", "OPS-PC-12")
    sim.daemon.end_session(other.id)
    assert other.id not in sim.office.sessions
    assert sim.office.ended[other.access] == EndedBy("TEST-PC", "vms-tray 0.1.0")
    assert sim.state() == "signed_in"


def test_ending_this_very_session_is_refused_as_a_sign_out() -> None:
    sim = signed_in_sim()
    (ours,) = sim.office.sessions.values()
    with pytest.raises(InvalidInput, match="that is this session"):
        sim.daemon.end_session(ours.id)
    assert ours.id in sim.office.sessions and sim.state() == "signed_in"


def test_a_kind_that_cannot_end_or_list_sessions_says_so() -> None:
    worlds = {"office": World(FakeClock()), "annex": World(FakeClock())}
    sim = Sim(worlds=worlds, server_class=ReauthServer)
    sim.start()
    other = sim.office.open("anna", "OPS-PC-12")
    with pytest.raises(Unsupported, match="this server cannot end sessions"):
        sim.daemon.end_session(other.id)
    with pytest.raises(Unsupported, match="this server does not report sessions"):
        sim.daemon.sessions()
    assert other.id in sim.office.sessions


def test_without_a_session_there_is_nothing_to_list_or_end() -> None:
    sim = Sim(passwords={})
    sim.start()
    assert sim.state() == "signed_out"
    with pytest.raises(EngineError, match="not signed in"):
        sim.daemon.sessions()
    with pytest.raises(EngineError, match="not signed in"):
        sim.daemon.end_session("s1")


def test_a_captcha_answer_is_registered_as_a_secret_before_it_is_checked() -> None:
    sim = Sim()
    sim.office.captcha = True
    sim.start()
    sim.daemon.execute(C.AnswerCaptcha("  wrong-guess  "))
    assert "  wrong-guess  " in sim.secrets
    assert sim.state() == "captcha_required"
