"""Random sequences of sign-ins, waits, handovers, releases and time against what the queue
promises (Hypothesis): no seat is ever given twice, the limit is never exceeded, nobody waits
while a seat is free, and a waiter's place only moves up (except behind one who ends or asks
for a session's seat: that one goes to the head)."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.unit.refserver.conftest import FAST_KDF
from vms_tray.refserver.config import ServerConfig
from vms_tray.refserver.problems import Problem
from vms_tray.refserver.service import ClientDescription, Service
from vms_tray.refserver.storage import Store
from vms_tray.refserver.tokens import token_hash
from vms_tray.testing.clock import FakeServerClock

LIMIT = 2
DEVICES = ["d0", "d1", "d2", "d3", "d4"]


class QueueMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeServerClock()
        config = ServerConfig(kdf=FAST_KDF, max_sessions=LIMIT, idle_timeout=None)
        self.service = Service(Store(":memory:"), self.clock, config)
        self.service.add_user("anna", "pw")
        self.access: dict[str, str] = {}  # session id -> access token
        self.conflicts: list[str] = []  # conflict tokens not known to be spent
        self.places: dict[str, int] = {}  # a waiter's token -> its last position

    def teardown(self) -> None:
        self.service.store.close()

    # --- what the server holds ------------------------------------------------------------------

    def active(self) -> int:
        return self.service.store.count_active("anna")

    def held(self) -> int:
        return self.service.queue.held("anna", self.clock.now())

    def waiting_unoffered(self) -> int:
        now = self.clock.now()
        return sum(1 for w in self.service.queue.waiters("anna", now) if not w.offered(now))

    def offered(self, token: str) -> bool:
        w = self.service.queue.waiter(token_hash(token))
        return w is not None and w.offered(self.clock.now())

    def settle_first(self) -> None:
        """What the next request sees first (each one sweeps and settles)."""
        self.service.sweep()

    def signed_in(self, answer: dict[str, object]) -> None:
        self.access[str(answer["session_id"])] = str(answer["access_token"])

    # --- rules ----------------------------------------------------------------------------------

    @rule(device=st.sampled_from(DEVICES))
    def sign_in(self, device: str) -> None:
        self.settle_first()
        free = self.active() + self.held() < LIMIT
        try:
            answer = self.service.sign_in("anna", "pw", ClientDescription(device, "sw", "1"), "a")
        except Problem as exc:
            assert exc.name == "session-limit" and not free
            self.conflicts.append(exc.extensions["conflict_token"])
            return
        assert free, "a newcomer took a seat held for a waiter"
        self.signed_in(answer)

    @precondition(lambda self: self.conflicts)
    @rule(data=st.data(), wait=st.booleans())
    def finish(self, data: st.DataObject, wait: bool) -> None:
        token = data.draw(st.sampled_from(self.conflicts))
        self.settle_first()
        self.conflicts.remove(token)
        was_offered = self.offered(token)
        free = self.active() + self.held() < LIMIT
        before = self.places.pop(token, None)
        try:
            answer = self.service.finish_sign_in(token, "a", wait=wait)
        except Problem as exc:
            if exc.name == "token-expired":
                return
            assert exc.name == "session-limit" and not free and not was_offered
            fresh = exc.extensions["conflict_token"]
            self.conflicts.append(fresh)
            if wait:
                position = exc.extensions["queue"]["position"]
                if before is not None:
                    assert position <= before, "a waiter's place moved back"
                self.places[fresh] = position
            return
        assert was_offered or free, "a waiter took a seat that was not free or held for it"
        self.signed_in(answer)

    @precondition(lambda self: self.conflicts)
    @rule(data=st.data())
    def abandon(self, data: st.DataObject) -> None:
        token = data.draw(st.sampled_from(self.conflicts))
        self.conflicts.remove(token)
        self.places.pop(token, None)
        try:
            self.service.sign_out(token)
        except Problem as exc:
            assert exc.name == "token-expired"

    @precondition(lambda self: self.conflicts and self.access)
    @rule(data=st.data(), handover=st.booleans())
    def ask_for_a_seat(self, data: st.DataObject, handover: bool) -> None:
        """End a listed session at once, or ask it to hand over."""
        token = data.draw(st.sampled_from(self.conflicts))
        target = data.draw(st.sampled_from(list(self.access)))
        try:
            caller = self.service.authenticate(token, allow_conflict=True)
            if handover:
                self.service.request_handover(caller, target)
            else:
                self.service.end_session(caller, target)
        except Problem as exc:
            assert exc.name in ("token-expired", "session-not-found"), exc
            return
        # It goes to the head of the line (it freed or asked for the seat): everyone behind it
        # moves back once, by design, so the places recorded so far promise nothing now.
        self.places.clear()

    @precondition(lambda self: self.access)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        session_id = data.draw(st.sampled_from(list(self.access)))
        self.service.sign_out(self.access.pop(session_id))

    @rule(seconds=st.sampled_from([1.0, 30.0, 61.0, 121.0]))
    def time_passes(self, seconds: float) -> None:
        self.clock.advance(seconds)
        # Tokens that lapsed lose their recorded place (an expired waiter leaves the line).
        self.places.clear()

    # --- what must always hold --------------------------------------------------------------------

    @invariant()
    def no_seat_given_twice(self) -> None:
        self.settle_first()
        assert self.active() <= LIMIT
        assert self.active() + self.held() <= LIMIT

    @invariant()
    def nobody_waits_while_a_seat_is_free(self) -> None:
        self.settle_first()
        if self.waiting_unoffered():
            assert self.active() + self.held() == LIMIT

    @invariant()
    def places_are_one_to_n(self) -> None:
        now = self.clock.now()
        line = self.service.queue.waiters("anna", now)
        places = [self.service.queue.place(w.conflict_hash, now) for w in line]
        assert [p.position for p in places if p] == list(range(1, len(line) + 1))


QueueMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
TestQueue = QueueMachine.TestCase
