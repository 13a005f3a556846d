"""Random sequences of protocol calls against a small model of what must hold (Hypothesis).

The model knows each session's tokens, last activity and end reason; after every step the server
must agree with it, and an account never holds more sessions than its limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.unit.refserver.conftest import FAST_KDF
from vms_tray.refserver.config import ServerConfig
from vms_tray.refserver.problems import Problem
from vms_tray.refserver.service import ClientDescription, Service, SessionCaller
from vms_tray.refserver.storage import Store
from vms_tray.testing.clock import FakeServerClock

IDLE = 900.0
LIMIT = 2
DEVICES = ["d0", "d1", "d2", "d3"]


@dataclass
class Model:
    id: str
    device: str
    access: str
    refresh: str
    last_activity: float
    spent: list[str] = field(default_factory=list)
    spent_at: list[float] = field(default_factory=list)
    access_used: bool = False  # the current access token was used: its pair was received
    reason: str | None = None
    ended_by: str | None = None


class ProtocolMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeServerClock()
        config = ServerConfig(
            kdf=FAST_KDF, max_sessions=LIMIT, idle_timeout=IDLE, access_ttl=1e7, refresh_ttl=1e7
        )
        self.service = Service(Store(":memory:"), self.clock, config)
        self.service.add_user("anna", "pw")
        self.sessions: list[Model] = []

    def teardown(self) -> None:
        self.service.store.close()

    # --- the model's own clock work -----------------------------------------------------------

    def expire(self) -> None:
        now = self.clock.now()
        for m in self.active():
            if m.last_activity + IDLE < now:
                m.reason = "idle_timeout"

    def active(self) -> list[Model]:
        return [m for m in self.sessions if m.reason is None]

    def expect_ended(self, exc: Problem, m: Model) -> None:
        assert exc.name == "session-ended", exc
        assert exc.extensions["reason"] == m.reason
        if m.reason == "ended_by_other":
            assert exc.extensions["ended_by"]["device"] == m.ended_by

    # --- rules ---------------------------------------------------------------------------------

    @rule(device=st.sampled_from(DEVICES))
    def sign_in(self, device: str) -> None:
        self.expire()
        try:
            r = self.service.sign_in("anna", "pw", ClientDescription(device, "sw", "1"), "a")
        except Problem as exc:
            assert exc.name == "session-limit"
            assert len(self.active()) >= LIMIT
            return
        assert len(self.active()) < LIMIT
        self.sessions.append(
            Model(r["session_id"], device, r["access_token"], r["refresh_token"], self.clock.now())
        )

    @precondition(lambda self: self.sessions)
    @rule(data=st.data())
    def refresh(self, data: st.DataObject) -> None:
        m = data.draw(st.sampled_from(self.sessions))
        self.expire()
        try:
            r = self.service.refresh(m.refresh)
        except Problem as exc:
            self.expect_ended(exc, m)
            return
        assert m.reason is None
        m.spent.append(m.refresh)
        m.spent_at.append(self.clock.now())
        m.access, m.refresh = r["access_token"], r["refresh_token"]
        m.access_used = False
        m.last_activity = self.clock.now()

    @precondition(lambda self: any(m.spent for m in self.sessions))
    @rule(data=st.data())
    def reuse_a_spent_refresh_token(self, data: st.DataObject) -> None:
        m = data.draw(st.sampled_from([m for m in self.sessions if m.spent]))
        self.expire()
        token = data.draw(st.sampled_from(m.spent))
        # A retry after a lost reply: the latest spent token, recently, nothing its rotation
        # issued used (the model's current pair is that rotation's).
        retry = (
            m.reason is None
            and token == m.spent[-1]
            and self.clock.now() - m.spent_at[-1] <= self.service.config.refresh_grace
            and not m.access_used
        )
        try:
            r = self.service.refresh(token)
        except Problem as exc:
            assert not retry, exc
            if m.reason is None:
                assert exc.name == "token-expired"
                m.reason = "expired"
            else:
                self.expect_ended(exc, m)
        else:
            assert retry, "a spent refresh token was accepted"
            m.access, m.refresh = r["access_token"], r["refresh_token"]
            m.access_used = False
            m.last_activity = self.clock.now()

    @precondition(lambda self: self.sessions)
    @rule(data=st.data())
    def list_sessions(self, data: st.DataObject) -> None:
        m = data.draw(st.sampled_from(self.sessions))
        self.expire()
        try:
            caller = self.service.authenticate(m.access, allow_conflict=False)
        except Problem as exc:
            self.expect_ended(exc, m)
            return
        assert isinstance(caller, SessionCaller) and m.reason is None
        m.last_activity = self.clock.now()
        m.access_used = True
        listed = self.service.list_sessions(caller)
        assert [s["id"] for s in listed["sessions"]] == [a.id for a in self.active()]
        assert [s["current"] for s in listed["sessions"]] == [a is m for a in self.active()]

    @precondition(lambda self: len(self.sessions) >= 2)
    @rule(data=st.data())
    def end_another(self, data: st.DataObject) -> None:
        me, target = data.draw(st.permutations(self.sessions))[:2]
        self.expire()
        try:
            caller = self.service.authenticate(me.access, allow_conflict=False)
        except Problem as exc:
            self.expect_ended(exc, me)
            return
        me.last_activity = self.clock.now()
        me.access_used = True
        try:
            self.service.end_session(caller, target.id)
        except Problem as exc:
            assert exc.name == "session-not-found" and target.reason is not None
            return
        assert target.reason is None
        target.reason, target.ended_by = "ended_by_other", me.device

    @precondition(lambda self: self.sessions)
    @rule(data=st.data(), use_refresh=st.booleans())
    def sign_out(self, data: st.DataObject, use_refresh: bool) -> None:
        m = data.draw(st.sampled_from(self.sessions))
        self.expire()
        self.service.sign_out(m.refresh if use_refresh else m.access)
        if m.reason is None:
            m.reason = "logout"

    @rule(seconds=st.sampled_from([1.0, 60.0, 450.0, 899.0, 901.0]))
    def time_passes(self, seconds: float) -> None:
        self.clock.advance(seconds)

    # --- what must always hold -----------------------------------------------------------------

    @invariant()
    def seats_agree_with_the_model(self) -> None:
        self.expire()
        self.service._sweep(self.clock.now())  # what the next request would see
        count = self.service.store.count_active("anna")
        assert count == len(self.active()) <= LIMIT


ProtocolMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=30, deadline=None
)
TestProtocol = ProtocolMachine.TestCase
