"""What the daemon remembers of an account (vms_tray.daemon.memory): a daemon that died without
signing out resumes its session at the next start instead of taking another seat; the server's
device token is kept and sent again; a keyring that fails never stops a sign-in or a keep-alive."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import ClassVar

import pytest

from tests.unit.daemon.fakes import OFFICE, FakeServer, Sim, World
from vms_tray import commands
from vms_tray.connections.model import Connection
from vms_tray.daemon.memory import SafeMemory
from vms_tray.errors import CredentialError
from vms_tray.kinds.base import ClientInfo
from vms_tray.session.records import CaptchaAnswer, SignedIn, SignInOutcome, Tokens


class MemorySaved:
    """The keyring's part, in memory; ``broken`` makes every call fail as a locked keyring."""

    def __init__(self) -> None:
        self.kept: dict[str, Tokens] = {}
        self.devices: dict[str, str] = {}
        self.broken = False

    def _check(self) -> None:
        if self.broken:
            raise CredentialError("the keyring is locked: unlock it, then try again")

    def session(self, connection: Connection) -> Tokens | None:
        self._check()
        return self.kept.get(connection.name)

    def keep_session(self, connection: Connection, tokens: Tokens) -> None:
        self._check()
        self.kept[connection.name] = tokens

    def forget_session(self, connection: Connection) -> None:
        self._check()
        self.kept.pop(connection.name, None)

    def device_token(self, connection: Connection) -> str | None:
        self._check()
        return self.devices.get(connection.name)

    def keep_device_token(self, connection: Connection, token: str) -> None:
        self._check()
        self.devices[connection.name] = token


def test_a_signed_in_daemon_keeps_its_session_saved_and_rotated() -> None:
    saved = MemorySaved()
    sim = Sim(memory=saved)
    sim.start()
    assert sim.state() == "signed_in"
    (session,) = sim.office.active()
    assert saved.kept["office"].refresh_token == session.refresh
    sim.advance(600)  # past a refresh: the rotated pair replaces the saved one
    assert saved.kept["office"].refresh_token == sim.office.active()[0].refresh


def test_the_next_start_after_a_kill_resumes_the_same_session() -> None:
    saved = MemorySaved()
    first = Sim(memory=saved)
    first.start()
    (held,) = first.office.active()
    # The process dies here: nothing signs out. A new daemon starts on the same server.
    sign_ins = first.office.calls.count("sign_in")
    assert sign_ins == 1
    second = Sim(memory=saved, worlds=first.worlds)
    second.start()
    assert second.state() == "signed_in"
    assert [s.id for s in second.office.active()] == [held.id]  # no second seat
    assert second.office.calls.count("sign_in") == sign_ins  # resumed, not signed in again


def test_a_session_that_ended_meanwhile_is_forgotten_and_a_sign_in_follows() -> None:
    saved = MemorySaved()
    first = Sim(memory=saved)
    first.start()
    world: World = first.office
    for s in list(world.sessions.values()):
        world.sessions.pop(s.id)  # expired or ended on the server while we were gone
    second = Sim(memory=saved, worlds=first.worlds)
    second.start()
    assert second.state() == "signed_in"
    assert len(world.active()) == 1
    assert saved.kept["office"].refresh_token == world.active()[0].refresh


def test_signing_out_forgets_the_saved_session() -> None:
    saved = MemorySaved()
    sim = Sim(memory=saved)
    sim.start()
    sim.daemon.post(commands.SignOut())
    sim.settle()
    assert sim.state() == "signed_out"
    assert saved.kept == {}


def test_a_failing_keyring_is_logged_and_changes_nothing(caplog: pytest.LogCaptureFixture) -> None:
    saved = MemorySaved()
    saved.broken = True
    with caplog.at_level(logging.WARNING, logger="vms_tray.daemon.memory"):
        sim = Sim(memory=saved)
        sim.start()
    assert sim.state() == "signed_in"
    assert "could not save the session: the keyring is locked" in caplog.text
    keeper = SafeMemory(saved)
    assert keeper.session(OFFICE) is None
    assert keeper.device_token(OFFICE) is None
    keeper.forget_session(OFFICE)  # does not raise
    keeper.keep_device_token(OFFICE, "d" * 43)
    keeper.forget_session(None)


class DeviceServer(FakeServer):
    """Gives a device token at every correct password, and records the one it was sent."""

    sent: ClassVar[list[str | None]] = []

    def sign_in(
        self, login: str, password: str, client: ClientInfo, captcha: CaptchaAnswer | None = None
    ) -> SignInOutcome:
        DeviceServer.sent.append(client.device_token)
        outcome = super().sign_in(login, password, client, captcha)
        return replace(outcome, device_token="dev-1") if isinstance(outcome, SignedIn) else outcome


def test_the_device_token_is_kept_and_sent_with_the_next_sign_in() -> None:
    DeviceServer.sent.clear()
    saved = MemorySaved()
    sim = Sim(memory=saved, server_class=DeviceServer)
    sim.start()
    assert saved.devices == {"office": "dev-1"}
    assert "dev-1" in sim.secrets  # kept out of the logs like a token
    sim.daemon.post(commands.SignOut())
    sim.settle()
    sim.daemon.post(commands.SignIn())
    sim.settle()
    assert sim.state() == "signed_in"
    assert DeviceServer.sent == [None, "dev-1"]
