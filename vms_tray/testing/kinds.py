"""The contract every server kind keeps: one class of tests each kind must pass (as
``keyring.testing.backend.BackendBasicTests`` is for keyring's backends).

Subclass ``KindContract`` in a test module under a ``Test...`` name, so pytest collects it, and
provide the ``kind_target`` fixture: how to reach a server of that kind with one account on it::

    class TestNativeContract(KindContract):
        @pytest.fixture
        def kind_target(self, refserver: RefServer) -> KindTarget:
            return KindTarget(
                connect=lambda: native_for(refserver),
                login="anna",
                password="pw",
                unreachable=lambda: native_at(unused_local_url()),
                seats=2,
            )

Each test reads what the kind can do from the kind itself (``capabilities``). Where a kind
declares it cannot do something, the test checks that it says so (``Unsupported``, without a
request) instead: no test is skipped. Nor does any test skip for want of a server: reaching
one is the subclass's business, and its fixtures decide what a missing component means.

The account must be free of sessions when a test starts and hold at least two (the tests sign
in a second device). vms-tray's own kinds run this in ``tests/integration/kinds`` (the reference
server), ``tests/integration/zoneminder`` (a real ZoneMinder) and ``tests/unit/kinds`` (the
unit tests' fakes, so that they cannot drift from the servers they stand for).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from vms_tray.errors import (
    InvalidCredentials,
    ServerUnreachable,
    SessionEnded,
    SessionNotFound,
    TokenExpired,
    Unsupported,
)
from vms_tray.kinds.base import Capabilities, ClientInfo, ServerKind
from vms_tray.session.records import LimitConflict, ServerInfo, SessionEntry, SignedIn, Tokens

__all__ = ["DESK", "LAPTOP", "KindContract", "KindTarget", "unused_local_url"]

# The two devices the tests sign in from.
DESK = ClientInfo("contract-desk", "vms-tray", "0.1.0")
LAPTOP = ClientInfo("contract-laptop", "vms-tray", "0.1.0")

# Bearer material no server issued.
_NEVER_ISSUED = "never-issued-0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class KindTarget:
    """A server of the kind under test, and the account the tests use on it."""

    # A new client of the server, configured as vms-tray would (trust, timeouts); the contract
    # closes it.
    connect: Callable[[], ServerKind]
    login: str
    password: str = field(repr=False)
    # A client of the same kind for an address where nothing answers.
    unreachable: Callable[[], ServerKind]
    # Sessions the account may hold at once: required where the kind has a session limit.
    seats: int | None = None


def unused_local_url(scheme: str = "https", path: str = "") -> str:
    """A loopback URL on a port nothing listens on (it was free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"{scheme}://127.0.0.1:{port}{path}"


def _secrets_hidden(text: str, *secrets: str | None) -> None:
    # A substring check: a target's password must be long enough that no token or random id
    # contains it by chance (a 2-character one matched a session id once in ~300 runs).
    for secret in secrets:
        if secret:
            assert secret not in text, "a secret shows in a message or repr"


class KindContract:
    """What every ``ServerKind`` promises the daemon. See the module docstring for how to run it."""

    # --- what a subclass provides ----------------------------------------------------------------

    @pytest.fixture
    def kind_target(self) -> KindTarget:
        raise NotImplementedError(f"{type(self).__name__} must provide the kind_target fixture")

    # --- fixtures --------------------------------------------------------------------------------

    @pytest.fixture
    def connect(self, kind_target: KindTarget) -> Iterator[Callable[[], ServerKind]]:
        """``connect()``: another client of the server (another device); all closed at the end."""
        opened: list[ServerKind] = []

        def make() -> ServerKind:
            server = kind_target.connect()
            opened.append(server)
            return server

        yield make
        for server in opened:
            server.close()

    @pytest.fixture
    def server(self, connect: Callable[[], ServerKind]) -> ServerKind:
        return connect()

    # --- helpers ---------------------------------------------------------------------------------

    @staticmethod
    def sign_in(server: ServerKind, target: KindTarget, client: ClientInfo = DESK) -> Tokens:
        outcome = server.sign_in(target.login, target.password, client)
        assert isinstance(outcome, SignedIn), f"the good password did not sign in: {outcome!r}"
        return outcome.tokens

    @staticmethod
    def ours(server: ServerKind, tokens: Tokens) -> SessionEntry:
        """Our own session in the list: exactly one entry is marked current."""
        listing = server.list_sessions(tokens.access_token)
        current = [s for s in listing.sessions if s.current]
        assert len(current) == 1, f"{len(current)} sessions are marked as ours"
        if tokens.session_id is not None:
            assert current[0].id == tokens.session_id
        return current[0]

    @staticmethod
    def listed_ids(server: ServerKind, tokens: Tokens) -> set[str]:
        return {s.id for s in server.list_sessions(tokens.access_token).sessions}

    # --- what the kind says of itself ------------------------------------------------------------

    def test_it_declares_its_kind_and_capabilities(self, server: ServerKind) -> None:
        assert isinstance(server.kind, str) and server.kind
        caps = server.capabilities
        assert isinstance(caps, Capabilities)
        # The user chooses the session to end from the list.
        assert caps.list_sessions or not caps.end_sessions

    def test_server_info_describes_the_server(self, server: ServerKind) -> None:
        info = server.server_info()
        assert isinstance(info, ServerInfo)
        assert info.product
        assert info.captcha in ("never", "always", "after-failures")
        if not server.capabilities.captcha:
            assert info.captcha == "never"

    # --- signing in ------------------------------------------------------------------------------

    def test_the_good_password_signs_in(self, server: ServerKind, kind_target: KindTarget) -> None:
        outcome = server.sign_in(kind_target.login, kind_target.password, DESK)
        assert isinstance(outcome, SignedIn), outcome
        tokens = outcome.tokens
        assert tokens.access_token and tokens.expires_in > 0
        # vms-tray keeps a session alive by refreshing it.
        assert tokens.refresh_token
        assert tokens.refresh_expires_in is None or tokens.refresh_expires_in > 0
        if outcome.limit is not None:
            assert outcome.limit.active >= 1
            assert outcome.limit.max is None or outcome.limit.active <= outcome.limit.max
        server.check(tokens)
        _secrets_hidden(
            repr(outcome), tokens.access_token, tokens.refresh_token, kind_target.password
        )

    def test_a_wrong_password_is_refused_and_changes_nothing(
        self, server: ServerKind, connect: Callable[[], ServerKind], kind_target: KindTarget
    ) -> None:
        tokens = self.sign_in(server, kind_target)
        lists = server.capabilities.list_sessions
        before = self.listed_ids(server, tokens) if lists else set()
        wrong = kind_target.password + "-not-it"
        with pytest.raises(InvalidCredentials) as info:
            connect().sign_in(kind_target.login, wrong, LAPTOP)
        _secrets_hidden(str(info.value), wrong, kind_target.password)
        # The signed-in session is untouched and no session was opened.
        server.check(tokens)
        if lists:
            assert self.listed_ids(server, tokens) == before
        # One wrong password does not stand in the way of the right one.
        self.sign_in(connect(), kind_target, LAPTOP)

    # --- keeping the session ---------------------------------------------------------------------

    def test_refresh_keeps_the_session(self, server: ServerKind, kind_target: KindTarget) -> None:
        tokens = self.sign_in(server, kind_target)
        renewed = server.refresh(tokens)
        assert renewed.access_token and renewed.expires_in > 0
        assert renewed.refresh_token
        assert renewed.session_id == tokens.session_id
        server.check(renewed)
        again = server.refresh(renewed)
        server.check(again)
        _secrets_hidden(repr(renewed) + repr(again), renewed.access_token, renewed.refresh_token)
        if server.capabilities.list_sessions:
            assert self.ours(server, again).device == DESK.device
            assert len(server.list_sessions(again.access_token).sessions) == 1

    def test_refresh_material_it_never_issued_is_token_expired(self, server: ServerKind) -> None:
        with pytest.raises(TokenExpired):
            server.refresh(Tokens(_NEVER_ISSUED, 60, refresh_token=_NEVER_ISSUED + "-r"))
        with pytest.raises(TokenExpired):
            server.refresh(Tokens(_NEVER_ISSUED, 60))  # no refresh token at all

    def test_a_token_it_never_issued_fails_the_check(self, server: ServerKind) -> None:
        with pytest.raises(TokenExpired):
            server.check(Tokens(_NEVER_ISSUED, 60))

    # --- sessions --------------------------------------------------------------------------------

    def test_the_session_list_shows_our_session_as_ours(
        self, server: ServerKind, connect: Callable[[], ServerKind], kind_target: KindTarget
    ) -> None:
        mine = self.sign_in(server, kind_target, DESK)
        if not server.capabilities.list_sessions:
            with pytest.raises(Unsupported):
                server.list_sessions(mine.access_token)
            with pytest.raises(Unsupported):
                server.current_session(mine.access_token)
            return
        theirs = self.sign_in(connect(), kind_target, LAPTOP)
        me = self.ours(server, mine)
        assert (me.device, me.software, me.version) == (DESK.device, DESK.software, DESK.version)
        assert server.current_session(mine.access_token).id == me.id
        listing = server.list_sessions(mine.access_token)
        others = [s for s in listing.sessions if not s.current]
        assert [s.device for s in others] == [LAPTOP.device]
        if theirs.session_id is not None:
            assert others[0].id == theirs.session_id
        assert listing.limit.active == len(listing.sessions) == 2

    def test_ending_another_devices_session(
        self, server: ServerKind, connect: Callable[[], ServerKind], kind_target: KindTarget
    ) -> None:
        mine = self.sign_in(server, kind_target, DESK)
        if not server.capabilities.end_sessions:
            with pytest.raises(Unsupported):
                server.end_session(mine.access_token, "another-session")
            return
        laptop = connect()
        theirs = self.sign_in(laptop, kind_target, LAPTOP)
        (target,) = (s for s in server.list_sessions(mine.access_token).sessions if not s.current)
        server.end_session(mine.access_token, target.id)

        with pytest.raises(SessionEnded) as info:
            laptop.check(theirs)
        assert info.value.reason == "ended_by_other"
        if info.value.ended_by is not None:
            assert info.value.ended_by.device == DESK.device
        with pytest.raises((SessionEnded, TokenExpired)):
            laptop.refresh(theirs)
        # Ours goes on; theirs is gone from the list and cannot be ended twice.
        server.check(mine)
        assert self.listed_ids(server, mine) == {self.ours(server, mine).id}
        with pytest.raises(SessionNotFound):
            server.end_session(mine.access_token, target.id)

    def test_a_full_account_is_a_limit_conflict_resolved_by_ending_a_session(
        self, connect: Callable[[], ServerKind], kind_target: KindTarget
    ) -> None:
        late = connect()
        if not late.capabilities.session_limit:
            with pytest.raises(Unsupported):
                late.finish_sign_in("a-conflict-token", LAPTOP)
            return
        seats = kind_target.seats
        assert seats is not None, "a kind with a session limit must say how many seats there are"
        held = [
            (client, self.sign_in(client, kind_target, ClientInfo(f"seat-{i}", "vms-tray", "1")))
            for i, client in enumerate(connect() for _ in range(seats))
        ]
        conflict = late.sign_in(kind_target.login, kind_target.password, LAPTOP)
        assert isinstance(conflict, LimitConflict), conflict
        assert (conflict.limit.max, conflict.limit.active) == (seats, seats)
        assert sorted(s.device for s in conflict.sessions) == [f"seat-{i}" for i in range(seats)]
        assert not any(s.current for s in conflict.sessions)
        assert conflict.expires_in > 0
        _secrets_hidden(repr(conflict), conflict.conflict_token, kind_target.password)
        if not late.capabilities.end_sessions:
            return
        first_client, first = held[0]
        (victim,) = (s for s in conflict.sessions if s.device == "seat-0")
        late.end_session(conflict.conflict_token, victim.id)
        done = late.finish_sign_in(conflict.conflict_token, LAPTOP)
        assert isinstance(done, SignedIn), done
        assert self.ours(late, done.tokens).device == LAPTOP.device
        with pytest.raises(SessionEnded) as info:
            first_client.check(first)
        assert info.value.reason == "ended_by_other"

    # --- signing out -----------------------------------------------------------------------------

    def test_sign_out_ends_the_session(
        self, server: ServerKind, connect: Callable[[], ServerKind], kind_target: KindTarget
    ) -> None:
        caps = server.capabilities
        tokens = self.sign_in(server, kind_target, DESK)
        watcher = connect()
        seen_by = self.sign_in(watcher, kind_target, LAPTOP) if caps.list_sessions else None
        server.sign_out(tokens)
        server.sign_out(tokens)  # idempotent
        if caps.server_side_sign_out:
            with pytest.raises((SessionEnded, TokenExpired)) as info:
                server.check(tokens)
            if isinstance(info.value, SessionEnded):
                assert info.value.reason == "logout"
            with pytest.raises((SessionEnded, TokenExpired)):
                server.refresh(tokens)
            if seen_by is not None:
                listing = watcher.list_sessions(seen_by.access_token)
                assert [s.device for s in listing.sessions] == [LAPTOP.device]
                assert listing.limit.active == 1
        # The account signs in again from the same device.
        server.check(self.sign_in(server, kind_target, DESK))

    # --- captcha ---------------------------------------------------------------------------------

    def test_a_new_captcha_is_a_picture(self, server: ServerKind) -> None:
        if not server.capabilities.captcha:
            with pytest.raises(Unsupported):
                server.new_captcha()
            return
        captcha = server.new_captcha()
        assert captcha.id and captcha.expires_in > 0
        assert captcha.image_png.startswith(b"\x89PNG")
        assert server.new_captcha(replaces=captcha.id).id != captcha.id

    # --- the network -----------------------------------------------------------------------------

    def test_an_unreachable_server_is_server_unreachable(self, kind_target: KindTarget) -> None:
        with kind_target.unreachable() as gone:
            with pytest.raises(ServerUnreachable):
                gone.server_info()
            with pytest.raises(ServerUnreachable) as info:
                gone.sign_in(kind_target.login, kind_target.password, DESK)
            _secrets_hidden(str(info.value), kind_target.password)
            with pytest.raises(ServerUnreachable):
                gone.check(Tokens(_NEVER_ISSUED, 60))
            with pytest.raises(ServerUnreachable):
                gone.refresh(Tokens(_NEVER_ISSUED, 60, refresh_token=_NEVER_ISSUED + "-r"))
