"""Protocol v1.1 seat estimates and discovery: ends_by_itself_at, limit.next_free_at, features."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.refserver.conftest import DESK, LAPTOP, PHONE
from vms_tray.refserver.problems import Problem
from vms_tray.refserver.service import Service, iso
from vms_tray.testing.clock import FakeServerClock


def sign_in(service: Service, client: Any = LAPTOP) -> dict[str, Any]:
    return service.sign_in("anna", "pw", client, "10.0.0.1")


def listing(service: Service, access: str) -> dict[str, Any]:
    return service.list_sessions(service.authenticate(access, allow_conflict=False))


def test_server_says_v1_1_and_lists_only_working_features(service: Service) -> None:
    info = service.info()
    assert info["api_version"] == "1.1"
    assert "seat-estimates" in info["features"]
    assert set(info["features"]) <= {"events", "seat-estimates", "queue", "handover"}


def test_entry_ends_by_itself_at_idle_expiry(service: Service, clock: FakeServerClock) -> None:
    start = clock.now()
    r = sign_in(service)
    clock.advance(100)
    (entry,) = listing(service, r["access_token"])["sessions"]
    # The listing itself was activity: idle expiry moved to now + 900.
    assert entry["ends_by_itself_at"] == iso(start + 100 + 900)


def test_refresh_expiry_wins_when_sooner(
    make_service: Callable[..., Service], clock: FakeServerClock
) -> None:
    service = make_service(refresh_ttl=600.0)
    start = clock.now()
    r = sign_in(service)
    (entry,) = listing(service, r["access_token"])["sessions"]
    assert entry["ends_by_itself_at"] == iso(start + 600)


def test_no_idle_timeout_leaves_the_refresh_expiry(
    make_service: Callable[..., Service], clock: FakeServerClock
) -> None:
    service = make_service(idle_timeout=None)
    start = clock.now()
    r = sign_in(service)
    assert listing(service, r["access_token"])["sessions"][0]["ends_by_itself_at"] == iso(
        start + 12 * 3600
    )


def test_next_free_at_only_when_full(service: Service, clock: FakeServerClock) -> None:
    start = clock.now()
    laptop = sign_in(service, LAPTOP)
    assert laptop["limit"]["next_free_at"] is None and laptop["limit"]["held"] == 0
    clock.advance(50)
    desk = sign_in(service, DESK)
    assert desk["limit"]["next_free_at"] == iso(start + 900)  # the laptop's idle expiry
    with pytest.raises(Problem) as info:
        sign_in(service, PHONE)
    ext = info.value.extensions
    assert ext["limit"]["next_free_at"] == iso(start + 900)
    assert [s["ends_by_itself_at"] for s in ext["sessions"]] == [
        iso(start + 900),
        iso(start + 950),
    ]


def test_activity_pushes_next_free_at_back(service: Service, clock: FakeServerClock) -> None:
    start = clock.now()
    laptop = sign_in(service, LAPTOP)
    sign_in(service, DESK)
    clock.advance(200)
    limit = listing(service, laptop["access_token"])["limit"]
    assert limit["next_free_at"] == iso(start + 900)  # now the desk's, the laptop was active


def test_unlimited_account_never_has_next_free_at(
    make_service: Callable[..., Service],
) -> None:
    service = make_service(max_sessions=None)
    for _ in range(3):
        assert sign_in(service)["limit"]["next_free_at"] is None
