"""The saved session (vms_tray.daemon.saved): a daemon that died without signing out resumes its
session at the next start instead of taking another seat; a keyring that fails never stops a
sign-in or a keep-alive."""

from __future__ import annotations

import logging

import pytest

from tests.unit.daemon.fakes import OFFICE, Sim, World
from vms_tray import commands
from vms_tray.connections.model import Connection
from vms_tray.daemon.saved import SavedSession
from vms_tray.errors import CredentialError
from vms_tray.session.records import Tokens


class MemorySaved:
    """The keyring's part, in memory; ``broken`` makes every call fail as a locked keyring."""

    def __init__(self) -> None:
        self.kept: dict[str, Tokens] = {}
        self.broken = False

    def _check(self) -> None:
        if self.broken:
            raise CredentialError("the keyring is locked: unlock it, then try again")

    def load(self, connection: Connection) -> Tokens | None:
        self._check()
        return self.kept.get(connection.name)

    def save(self, connection: Connection, tokens: Tokens) -> None:
        self._check()
        self.kept[connection.name] = tokens

    def forget(self, connection: Connection) -> None:
        self._check()
        self.kept.pop(connection.name, None)


def test_a_signed_in_daemon_keeps_its_session_saved_and_rotated() -> None:
    saved = MemorySaved()
    sim = Sim(saved_sessions=saved)
    sim.start()
    assert sim.state() == "signed_in"
    (session,) = sim.office.active()
    assert saved.kept["office"].refresh_token == session.refresh
    sim.advance(600)  # past a refresh: the rotated pair replaces the saved one
    assert saved.kept["office"].refresh_token == sim.office.active()[0].refresh


def test_the_next_start_after_a_kill_resumes_the_same_session() -> None:
    saved = MemorySaved()
    first = Sim(saved_sessions=saved)
    first.start()
    (held,) = first.office.active()
    # The process dies here: nothing signs out. A new daemon starts on the same server.
    sign_ins = first.office.calls.count("sign_in")
    assert sign_ins == 1
    second = Sim(saved_sessions=saved, worlds=first.worlds)
    second.start()
    assert second.state() == "signed_in"
    assert [s.id for s in second.office.active()] == [held.id]  # no second seat
    assert second.office.calls.count("sign_in") == sign_ins  # resumed, not signed in again


def test_a_session_that_ended_meanwhile_is_forgotten_and_a_sign_in_follows() -> None:
    saved = MemorySaved()
    first = Sim(saved_sessions=saved)
    first.start()
    world: World = first.office
    for s in list(world.sessions.values()):
        world.sessions.pop(s.id)  # expired or ended on the server while we were gone
    second = Sim(saved_sessions=saved, worlds=first.worlds)
    second.start()
    assert second.state() == "signed_in"
    assert len(world.active()) == 1
    assert saved.kept["office"].refresh_token == world.active()[0].refresh


def test_signing_out_forgets_the_saved_session() -> None:
    saved = MemorySaved()
    sim = Sim(saved_sessions=saved)
    sim.start()
    sim.daemon.post(commands.SignOut())
    sim.settle()
    assert sim.state() == "signed_out"
    assert saved.kept == {}


def test_a_failing_keyring_is_logged_and_changes_nothing(caplog: pytest.LogCaptureFixture) -> None:
    saved = MemorySaved()
    saved.broken = True
    with caplog.at_level(logging.WARNING, logger="vms_tray.daemon.saved"):
        sim = Sim(saved_sessions=saved)
        sim.start()
    assert sim.state() == "signed_in"
    assert "could not save the session: the keyring is locked" in caplog.text
    keeper = SavedSession(saved)
    assert keeper.load(OFFICE) is None
    keeper.forget(OFFICE)  # does not raise
    keeper.forget(None)
