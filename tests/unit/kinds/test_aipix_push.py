"""The logout push (note §3 E12) against the simulator over real TLS: the kind listens to its
token's channel once the daemon asks, hears the logout another device causes, and falls back to
the poll where the server offers no websocket."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from vms_tray.connections.model import Connection, Trust
from vms_tray.kinds.aipix import AipixServer
from vms_tray.kinds.aipix_push import _frame, socket_url
from vms_tray.kinds.base import ClientInfo
from vms_tray.refserver.aipix.config import AipixConfig, Readings
from vms_tray.refserver.aipix.runner import AipixHandle
from vms_tray.refserver.tokens import KdfParams
from vms_tray.session.records import SignedIn, Tokens

DESK = ClientInfo("desk-1", "vms-tray", "0.1.0")
PHONE = ClientInfo("phone-2", "vms-tray", "0.1.0")
WAIT = 10.0  # seconds a real thread gets to answer (never slept: an event is waited on)


def test_socket_url_from_the_url_or_its_parts() -> None:
    # note §3 E12: ``ws_url`` and its parts; either may be filled in
    full = socket_url({"ws_url": "wss://vms.example.com:6001/app/k", "app_key": "k"})
    assert full is not None and full.startswith("wss://vms.example.com:6001/app/k?protocol=7")
    bare = socket_url({"ws_url": "wss://vms.example.com", "app_key": "k"})
    assert bare is not None and bare.startswith("wss://vms.example.com/app/k?")
    parts = socket_url({"ws_url": "", "host": "::1", "port": 6001, "app_key": "k"})
    assert parts is not None and parts.startswith("wss://[::1]:6001/app/k?")
    assert socket_url({"ws_url": "ws://vms.example.com/app/k"}) is None  # never in the clear
    assert socket_url({"host": "vms.example.com", "is_encrypted": False, "path": "/a"}) is None
    assert socket_url({}) is None


class Setup:
    def __init__(self, handle: AipixHandle, tmp_path: Path) -> None:
        self.handle = handle
        trust = Trust(mode="pinned", pin_sha256=handle.fingerprint)
        self.conn = Connection("HQ", handle.url, "anna", kind="aipix", trust=trust)
        self.tmp_path = tmp_path
        self.kinds: list[AipixServer] = []

    def kind(self, name: str) -> AipixServer:
        server = AipixServer(self.conn, timeout=5, profile_dir=self.tmp_path / name)
        self.kinds.append(server)
        return server


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Callable[..., Setup]]:
    made: list[Setup] = []

    def start(**readings: Any) -> Setup:
        config = replace(AipixConfig(sessions_limit=3), readings=Readings(**readings))
        handle = AipixHandle(tmp_path / f"s{len(made)}", config=config, kdf=KdfParams(n=16))
        handle.service.add_user("anna", "pw")
        made.append(Setup(handle, tmp_path))
        return made[-1]

    yield start
    for setup in made:
        for kind in setup.kinds:
            kind.close()
        setup.handle.stop()


def signed_in(kind: AipixServer, info: ClientInfo) -> Tokens:
    outcome = kind.sign_in("anna", "pw", info)
    assert isinstance(outcome, SignedIn), outcome
    return outcome.tokens


@pytest.mark.parametrize("shape", ["full", "parts"])
def test_a_logout_caused_elsewhere_is_heard_at_once(make: Callable[..., Setup], shape: str) -> None:
    setup = make(websocket=shape)
    heard = threading.Event()
    desk = setup.kind("desk")
    desk.on_pushed(heard.set)
    mine = signed_in(desk, DESK)  # its session list starts the listener
    assert desk._push.subscribed(WAIT)
    phone = setup.kind("phone")
    theirs = signed_in(phone, PHONE)
    phone.end_session(theirs.access_token, mine.session_id or "")
    assert heard.wait(WAIT)
    with pytest.raises(Exception, match="no longer accepts"):
        desk.check(mine)


def test_no_websocket_offered_means_the_poll_alone(make: Callable[..., Setup]) -> None:
    setup = make(websocket="off")
    desk = setup.kind("desk")
    desk.on_pushed(lambda: None)
    tokens = signed_in(desk, DESK)
    assert not desk._push.subscribed(0)
    desk.check(tokens)  # polling goes on, and no second look for a websocket is made
    assert not desk._push.subscribed(0)


def test_sign_out_stops_listening(make: Callable[..., Setup]) -> None:
    setup = make()
    desk = setup.kind("desk")
    desk.on_pushed(lambda: None)
    tokens = signed_in(desk, DESK)
    assert desk._push.subscribed(WAIT)
    desk.sign_out(tokens)
    assert not desk._push.subscribed(0)


def test_without_a_listener_asked_for_nothing_is_opened(make: Callable[..., Setup]) -> None:
    setup = make()
    desk = setup.kind("desk")
    signed_in(desk, DESK)
    assert not desk._push.subscribed(0)


def test_a_frame_nested_too_deep_is_no_frame() -> None:
    # A hostile server's 60 KB of '[': json raises RecursionError, not ValueError.
    assert _frame("[" * 60_000) == {}
    assert _frame('{"event": "x", "data": "' + "[" * 60_000 + '"}')["event"] == "x"
