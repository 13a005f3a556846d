"""Protocol v1.1's fair queue and graceful handover (refserver/queue.py through the service)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.refserver.conftest import DESK, LAPTOP, PHONE
from vms_tray.refserver.problems import Problem
from vms_tray.refserver.service import ClientDescription, Service, iso
from vms_tray.testing.clock import FakeServerClock

WALL = ClientDescription("wall", "vms-tray", "0.1.0")


def sign_in(service: Service, client: ClientDescription) -> dict[str, Any]:
    return service.sign_in("anna", "pw", client, "10.0.0.1")


def conflict(service: Service, client: ClientDescription) -> str:
    with pytest.raises(Problem) as e:
        sign_in(service, client)
    assert e.value.name == "session-limit"
    token: str = e.value.extensions["conflict_token"]
    return token


def wait(service: Service, token: str) -> tuple[str, dict[str, Any]]:
    """Finish with ``wait``: ("signed-in", answer) or ("waiting", the session-limit extensions)."""
    try:
        return "signed-in", service.finish_sign_in(token, "10.0.0.2", wait=True)
    except Problem as e:
        assert e.name == "session-limit", e
        return "waiting", e.extensions


def caller(service: Service, token: str) -> Any:
    return service.authenticate(token, allow_conflict=True)


@pytest.fixture
def full(service: Service) -> tuple[Service, dict[str, Any], dict[str, Any]]:
    """The account's two seats taken (LAPTOP, DESK)."""
    return service, sign_in(service, LAPTOP), sign_in(service, DESK)


def test_features_list_the_queue_and_the_handover(service: Service) -> None:
    assert {"queue", "handover"} <= set(service.info()["features"])


def test_waiters_get_their_place_and_keep_it_across_renewals(full: Any) -> None:
    service, _, _ = full
    phone, wall = conflict(service, PHONE), conflict(service, WALL)
    state, ext = wait(service, phone)
    assert (state, ext["queue"]) == ("waiting", {"position": 1, "length": 1})
    state, ext_w = wait(service, wall)
    assert ext_w["queue"] == {"position": 2, "length": 2}
    # Renewing keeps the place: the fresh token stands where the spent one stood.
    _, ext = wait(service, ext["conflict_token"])
    assert ext["queue"] == {"position": 1, "length": 2}
    with pytest.raises(Problem) as spent:
        service.finish_sign_in(phone, "10.0.0.2", wait=True)
    assert spent.value.name == "token-expired"


def test_a_freed_seat_is_held_for_the_head_not_taken_by_a_newcomer(full: Any) -> None:
    service, laptop, _ = full
    _, head = wait(service, conflict(service, PHONE))
    _, second = wait(service, conflict(service, WALL))
    service.sign_out(laptop["access_token"])
    # Held: a password sign-in and the second waiter meet the limit meanwhile.
    with pytest.raises(Problem) as newcomer:
        service.sign_in("anna", "pw", LAPTOP, "10.0.0.9")
    assert newcomer.value.name == "session-limit"
    assert newcomer.value.extensions["limit"]["held"] == 1
    assert newcomer.value.extensions["limit"]["active"] == 1
    state, second = wait(service, second["conflict_token"])
    assert (state, second["queue"]["position"]) == ("waiting", 2)
    state, answer = wait(service, head["conflict_token"])
    assert state == "signed-in"
    assert answer["limit"]["active"] == 2
    assert answer["limit"]["held"] == 0


def test_the_stream_news_say_seat_offered_to_the_head(full: Any) -> None:
    service, laptop, _ = full
    _, head = wait(service, conflict(service, PHONE))
    place = service.waiter_place(caller(service, head["conflict_token"]))
    assert place is not None and place["held_until"] is None
    service.sign_out(laptop["access_token"])
    place = service.waiter_place(caller(service, head["conflict_token"]))
    assert place is not None
    assert place["held_until"] is not None and place["expires_in"] == 60


def test_an_unused_hold_lapses_and_the_seat_goes_to_the_next(
    full: Any, clock: FakeServerClock
) -> None:
    service, laptop, _ = full
    _, head = wait(service, conflict(service, PHONE))
    _, second = wait(service, conflict(service, WALL))
    service.sign_out(laptop["access_token"])
    clock.advance(61)  # the head never came back for its seat
    state, _ = wait(service, second["conflict_token"])
    assert state == "signed-in"
    # The head left the line; its token still finishes, as a newcomer meeting a full account.
    state, again = wait(service, head["conflict_token"])
    assert (state, again["queue"]) == ("waiting", {"position": 1, "length": 1})


def test_a_waiter_that_abandons_lets_the_others_move_up(full: Any) -> None:
    service, _, _ = full
    _, head = wait(service, conflict(service, PHONE))
    _, second = wait(service, conflict(service, WALL))
    service.sign_out(head["conflict_token"])  # DELETE /sessions/current with the conflict token
    _, second = wait(service, second["conflict_token"])
    assert second["queue"] == {"position": 1, "length": 1}


def test_finishing_without_wait_leaves_the_line(full: Any) -> None:
    service, _, _ = full
    _, head = wait(service, conflict(service, PHONE))
    _, second = wait(service, conflict(service, WALL))
    with pytest.raises(Problem) as e:
        service.finish_sign_in(head["conflict_token"], "10.0.0.2")
    assert "queue" not in e.value.extensions
    _, second = wait(service, second["conflict_token"])
    assert second["queue"]["position"] == 1


def test_an_expired_waiter_leaves_the_line(full: Any, clock: FakeServerClock) -> None:
    service, _, _ = full
    wait(service, conflict(service, PHONE))
    clock.advance(100)
    _, second = wait(service, conflict(service, WALL))
    clock.advance(30)  # the head's token (120 s) lapsed without a renewal
    _, second = wait(service, second["conflict_token"])
    assert second["queue"] == {"position": 1, "length": 1}


def test_who_ends_a_session_for_its_seat_gets_that_seat(full: Any) -> None:
    service, laptop, _ = full
    _, waiting = wait(service, conflict(service, PHONE))
    ender = conflict(service, WALL)
    service.end_session(caller(service, ender), laptop["session_id"])
    state, _ = wait(service, waiting["conflict_token"])
    assert state == "waiting"  # the seat is held for WALL, who ended LAPTOP's session
    assert service.finish_sign_in(ender, "10.0.0.3")["limit"]["active"] == 2


def test_handover_marks_the_session_and_holds_the_seat_for_the_requester(
    full: Any, clock: FakeServerClock
) -> None:
    service, laptop, _ = full
    _, waiting = wait(service, conflict(service, PHONE))
    requester = conflict(service, WALL)
    start = clock.now()
    answer = service.request_handover(caller(service, requester), laptop["session_id"])
    assert answer == {"session_id": laptop["session_id"], "deadline": iso(start + 60), "grace": 60}
    # Asking again keeps the first deadline.
    clock.advance(10)
    again = service.request_handover(caller(service, requester), laptop["session_id"])
    assert again["deadline"] == answer["deadline"]
    mine = service.list_sessions(caller(service, laptop["access_token"]))
    entry = next(s for s in mine["sessions"] if s["id"] == laptop["session_id"])
    assert entry["handover"] == {
        "deadline": iso(start + 60),
        "requested_by": {"device": "wall", "software": "vms-tray"},
    }
    assert entry["ends_by_itself_at"] == iso(start + 60)
    news = service.account_view("anna")["handovers"][laptop["session_id"]]
    assert news["grace"] == 50 and news["requested_by"]["device"] == "wall"
    # The requester went ahead of the earlier waiter.
    _, ext = wait(service, requester)
    assert ext["queue"] == {"position": 1, "length": 2}
    # At the deadline the server ends the session, naming the requester.
    clock.advance(51)
    service.sweep()
    with pytest.raises(Problem) as ended:
        caller(service, laptop["access_token"])
    assert ended.value.extensions["reason"] == "handed_over"
    assert ended.value.extensions["ended_by"] == {"device": "wall", "software": "vms-tray"}
    assert "handed its seat over to wall" in ended.value.detail
    state, _ = wait(service, waiting["conflict_token"])
    assert state == "waiting"
    state, _ = wait(service, ext["conflict_token"])
    assert state == "signed-in"


def test_a_released_seat_goes_to_the_requester_at_once(full: Any) -> None:
    service, laptop, _ = full
    requester = conflict(service, WALL)
    service.request_handover(caller(service, requester), laptop["session_id"])
    service.sign_out(laptop["access_token"])  # "Release now"
    state, answer = wait(service, requester)
    assert state == "signed-in"
    assert answer["limit"]["active"] == 2


@pytest.mark.parametrize("target", ["unknown", "self"])
def test_handover_refusals(full: Any, target: str) -> None:
    service, laptop, _ = full
    session_id = laptop["session_id"] if target == "self" else "nope"
    with pytest.raises(Problem) as e:
        service.request_handover(caller(service, laptop["access_token"]), session_id)
    assert e.value.name == ("invalid-request" if target == "self" else "session-not-found")


def test_handover_of_another_accounts_session_is_not_found(
    make_service: Callable[..., Service],
) -> None:
    service = make_service()
    bobs = service.sign_in("bob", "pw-b", PHONE, "10.0.0.5")
    anna = sign_in(service, LAPTOP)
    with pytest.raises(Problem) as e:
        service.request_handover(caller(service, anna["access_token"]), bobs["session_id"])
    assert e.value.name == "session-not-found"


def test_no_limit_lets_every_waiter_in(make_service: Callable[..., Service]) -> None:
    service = make_service(max_sessions=1)
    sign_in(service, LAPTOP)
    token = conflict(service, PHONE)
    service.store.set_max_sessions("anna", 0)  # the administrator lifts the limit
    assert wait(service, token)[0] == "signed-in"
