"""Keeping a session on the real reference server: refresh, expiry, ending, signing out, outages."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.refserver import RefServer
from vms_tray.errors import (
    ServerBusy,
    ServerUnreachable,
    SessionEnded,
    SessionNotFound,
    TokenExpired,
)
from vms_tray.session.records import LimitConflict, SignedIn

from .helpers import DESK, LAPTOP, native_for, sign_in

pytestmark = pytest.mark.integration
Factory = Callable[..., RefServer]


def test_refresh_rotates_and_a_reused_refresh_token_ends_the_session(
    refserver: RefServer,
) -> None:
    with native_for(refserver) as client:
        tokens = sign_in(client)
        renewed = client.refresh(tokens)
        assert renewed.access_token != tokens.access_token
        assert renewed.refresh_token != tokens.refresh_token
        assert renewed.session_id == tokens.session_id
        client.check(renewed)
        latest = client.refresh(renewed)
        # The first token's successor has been used, so presenting it again is not a retry.
        with pytest.raises(TokenExpired):
            client.refresh(tokens)
        # Two parties held the session's secrets: the server ended it for safety.
        with pytest.raises(SessionEnded) as info:
            client.check(latest)
        assert info.value.reason == "expired"


def test_a_refresh_whose_reply_was_lost_is_retried_with_the_same_token(
    refserver: RefServer,
) -> None:
    with native_for(refserver) as client:
        tokens = sign_in(client)
        client.refresh(tokens)  # performed by the server; its answer never reached us
        retried = client.refresh(tokens)
        client.check(retried)
        client.check(client.refresh(retried))
        sessions = client.list_sessions(retried.access_token).sessions
        assert [s.id for s in sessions] == [tokens.session_id]


def test_an_expired_access_token_is_renewed_by_refresh(refserver: RefServer) -> None:
    with native_for(refserver) as client:
        tokens = sign_in(client)
        refserver.advance_clock(301)
        with pytest.raises(TokenExpired):
            client.check(tokens)
        client.check(client.refresh(tokens))


def test_idle_expiry(refserver_factory: Factory) -> None:
    server = refserver_factory(idle_timeout=60)
    with native_for(server) as client:
        tokens = sign_in(client)
        assert client.server_info().idle_timeout == 60
        server.advance_clock(61)
        with pytest.raises(SessionEnded) as info:
            client.check(tokens)
        assert info.value.reason == "idle_timeout" and "idle" in str(info.value)


def test_list_and_end_another_session(refserver: RefServer) -> None:
    with native_for(refserver) as desk, native_for(refserver) as laptop:
        mine = sign_in(desk, DESK)
        theirs = sign_in(laptop, LAPTOP)
        listed = desk.list_sessions(mine.access_token)
        assert (listed.limit.max, listed.limit.active) == (2, 2)
        by_id = {s.id: s for s in listed.sessions}
        assert by_id[mine.session_id or ""].current
        assert not by_id[theirs.session_id or ""].current
        assert by_id[theirs.session_id or ""].device == "laptop-2"

        desk.end_session(mine.access_token, theirs.session_id or "")
        with pytest.raises(SessionEnded) as info:
            laptop.check(theirs)
        assert info.value.ended_by is not None and info.value.ended_by.device == "desk-1"
        with pytest.raises(SessionNotFound):
            desk.end_session(mine.access_token, theirs.session_id or "")
        with pytest.raises(SessionNotFound):
            desk.end_session(mine.access_token, "no-such-session")


def test_sign_out_frees_the_seat(refserver_factory: Factory) -> None:
    server = refserver_factory(max_sessions=1)
    with native_for(server) as client:
        tokens = sign_in(client)
        assert isinstance(client.sign_in("anna", "pw", LAPTOP), LimitConflict)
        client.sign_out(tokens)
        client.sign_out(tokens)  # idempotent
        with pytest.raises(SessionEnded) as info:
            client.check(tokens)
        assert info.value.reason == "logout"
        assert isinstance(client.sign_in("anna", "pw", LAPTOP), SignedIn)


def test_sign_out_with_an_expired_access_token_still_frees_the_seat(
    refserver_factory: Factory,
) -> None:
    server = refserver_factory(max_sessions=1)
    with native_for(server) as client:
        tokens = sign_in(client)
        server.advance_clock(301)
        client.sign_out(tokens)
        assert isinstance(client.sign_in("anna", "pw", LAPTOP), SignedIn)


def test_server_busy_then_back(refserver: RefServer) -> None:
    with native_for(refserver) as client:
        tokens = sign_in(client)
        refserver.set_busy(30)
        with pytest.raises(ServerBusy) as info:
            client.check(tokens)
        assert info.value.retry_after == 30
        refserver.clear_busy()
        client.check(tokens)


def test_server_gone_then_back(refserver: RefServer) -> None:
    with native_for(refserver) as client:
        tokens = sign_in(client)
        refserver.kill()
        with pytest.raises(ServerUnreachable) as info:
            client.check(tokens)
        assert "127.0.0.1" in str(info.value)
        refserver.restart()
        # Sessions survive a restart; the client reconnects on its own.
        client.check(tokens)
