"""The simulator's semantics without HTTP (the HTTP face is test_app.py)."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from vms_tray.refserver.aipix.config import AipixConfig, Readings
from vms_tray.refserver.aipix.service import AipixError, AipixService, Device, message
from vms_tray.refserver.aipix.store import AipixStore
from vms_tray.refserver.tokens import KdfParams
from vms_tray.testing.clock import FakeServerClock

PHONE = Device("10.0.0.12", "Samsung / A52 / 13 / 33 / Android", "android", "uuid-phone")


def service(**config: Any) -> AipixService:
    s = AipixService(
        AipixStore(":memory:"), FakeServerClock(), AipixConfig(**config), kdf=KdfParams(n=16)
    )
    s.add_user("anna", "pw")
    return s


def test_demo_seats_are_sessions_like_any_other() -> None:
    s = service(sessions_limit=1)
    s.open_for_demo("anna", PHONE)
    (entry,) = s.entries("anna", s.clock.now(), None)
    assert (entry["client"], entry["ip"], entry["is_current"]) == ("android", "10.0.0.12", False)
    with pytest.raises(AipixError) as info:
        s.token({"login": "anna", "password": "pw"}, Device("127.0.0.1"))
    assert info.value.status == 419 and info.value.body["sessions_limit"] == 1


def test_a_users_own_limit_wins_and_zero_means_none() -> None:
    s = service(sessions_limit=1)
    s.add_user("bob", "pw", max_sessions=0)
    s.add_user("carol", "pw", max_sessions=2)
    bob = {"login": "bob", "password": "pw"}
    tokens = {s.token(bob, Device("127.0.0.1"))["access_token"] for _ in range(3)}
    assert len(tokens) == 3 and len(s.entries("bob", s.clock.now(), None)) == 3  # no limit
    carol = {"login": "carol", "password": "pw"}
    for _ in range(2):  # two seats, though the server's limit is one
        s.token(carol, Device("127.0.0.1"))
    with pytest.raises(AipixError) as info:
        s.token(carol, Device("127.0.0.1"))
    assert info.value.status == 419 and info.value.body["sessions_limit"] == 2


def test_the_window_reading_names_captcha_will_required_in() -> None:
    s = service(sessions_limit=1, readings=Readings(retry_captcha="window"))
    s.open_for_demo("anna", PHONE)
    with pytest.raises(AipixError) as info:
        s.token({"login": "anna", "password": "pw"}, Device("127.0.0.1"))
    assert info.value.body["captcha_will_required_in"] == 60


def test_messages_fall_back_to_english() -> None:
    assert message("unauthenticated", "de") == "Unauthenticated."
    assert message("required", "ru", field="login") == "Поле login обязательно."


@pytest.mark.parametrize(("unit", "scale"), [("seconds", 1), ("milliseconds", 1000)])
def test_last_in_either_unit(unit: Literal["seconds", "milliseconds"], scale: int) -> None:
    # note §3 Session ``last`` [INF]: the unit is not stated
    s = service(readings=Readings(last_unit=unit))
    s.open_for_demo("anna", PHONE)
    (entry,) = s.entries("anna", s.clock.now(), None)
    assert entry["last"] == int(s.clock.now()) * scale


@pytest.mark.parametrize(("unit", "ttl"), [("seconds", 60), ("milliseconds", 60_000)])
def test_captcha_ttl_in_either_unit(unit: Literal["seconds", "milliseconds"], ttl: int) -> None:
    # note §3 E2 ``ttl`` [INF unit], §7.7: the same minute either way
    s = service(captcha=True, readings=Readings(captcha_ttl_unit=unit))
    assert s.captcha(Device("127.0.0.1"))["ttl"] == ttl
