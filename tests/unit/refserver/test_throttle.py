from __future__ import annotations

from vms_tray.refserver.throttle import RateLimit, Throttle, ThrottlePolicy, address_key
from vms_tray.testing.clock import FakeServerClock


def test_a_pair_gets_four_free_failures_then_doubling_delays_up_to_15_minutes() -> None:
    clock = FakeServerClock()
    t = Throttle(clock)
    for _ in range(4):
        t.failed("anna", "10.0.0.1")
    assert t.retry_after("anna", "10.0.0.1") is None
    waits = []
    for _ in range(8):
        t.failed("anna", "10.0.0.1")
        wait = t.retry_after("anna", "10.0.0.1")
        assert wait is not None
        waits.append(wait)
        clock.advance(wait)
        assert t.retry_after("anna", "10.0.0.1") is None
    assert waits == [30, 60, 120, 240, 480, 900, 900, 900]


def test_one_pairs_failures_never_stop_the_same_login_elsewhere() -> None:
    t = Throttle(FakeServerClock())
    for _ in range(20):
        t.failed("anna", "10.6.6.6")
    assert t.retry_after("anna", "10.6.6.6") is not None
    assert t.retry_after("anna", "10.0.0.2") is None
    assert not t.captcha_due("anna", "10.0.0.2")
    assert t.retry_after("bob", "10.6.6.6") is None


def test_a_pair_is_forgotten_an_hour_after_its_last_failure() -> None:
    clock = FakeServerClock()
    t = Throttle(clock)
    for _ in range(6):
        t.failed("anna", "a")
    clock.advance(3600)
    assert t.retry_after("anna", "a") is None
    t.failed("anna", "a")  # counts from one again
    assert t.retry_after("anna", "a") is None


def test_captcha_after_two_failures_of_the_pair_until_it_signs_in() -> None:
    clock = FakeServerClock()
    t = Throttle(clock)
    t.failed("anna", "a")
    assert not t.captcha_due("anna", "a")
    t.failed("anna", "a")
    assert t.captcha_due("anna", "a")
    assert not t.captcha_due("anna", "b") and not t.captcha_due("bob", "a")
    t.succeeded("anna", "a")
    assert not t.captcha_due("anna", "a")
    t.failed("anna", "a")
    t.failed("anna", "a")
    clock.advance(901)  # older than the 15-minute captcha window
    assert not t.captcha_due("anna", "a")


def test_the_per_login_ceiling_stops_unknown_devices_only() -> None:
    clock = FakeServerClock()
    t = Throttle(clock, ThrottlePolicy(login_ceiling=10))
    for i in range(10):
        clock.advance(1)
        t.failed("anna", f"10.0.1.{i}")  # a distributed guesser: one failure per address
    assert t.retry_after("anna", "10.0.0.200") == 900 - 9
    assert t.retry_after("anna", "10.0.0.200", device="d1") is None  # a known device
    assert t.retry_after("bob", "10.0.0.200") is None
    clock.advance(900 - 9)
    assert t.retry_after("anna", "10.0.0.200") is None


def test_a_known_device_counts_its_own_failures_not_its_addresss() -> None:
    t = Throttle(FakeServerClock())
    for _ in range(10):
        t.failed("anna", "10.0.0.1")  # an attacker behind the same NAT
    assert t.retry_after("anna", "10.0.0.1") is not None
    assert t.retry_after("anna", "10.0.0.1", device="d1") is None
    assert not t.captcha_due("anna", "10.0.0.1", device="d1")
    t.failed("anna", "10.0.0.1", device="d1")
    t.failed("anna", "10.0.0.1", device="d1")
    assert t.captcha_due("anna", "10.0.0.1", device="d1")
    assert not t.captcha_due("anna", "10.0.0.1", device="d2")


def test_the_per_address_ceiling_across_logins() -> None:
    t = Throttle(FakeServerClock(), ThrottlePolicy(address_ceiling=5))
    for login in "abcde":
        t.failed(login, "10.0.0.1")
    assert t.retry_after("zed", "10.0.0.1") is not None
    assert t.retry_after("zed", "10.0.0.1", device="d") is None
    assert t.retry_after("zed", "10.0.0.2") is None


def test_success_clears_the_pair_not_the_ceilings() -> None:
    t = Throttle(FakeServerClock(), ThrottlePolicy(login_ceiling=6))
    for _ in range(6):
        t.failed("anna", "a")
    t.succeeded("anna", "a")
    assert t.retry_after("anna", "z") is not None  # the login's ceiling still counts
    assert t.retry_after("anna", "a", device="d") is None


def test_addresses_count_per_ipv4_address_and_per_ipv6_64() -> None:
    assert address_key("10.0.0.1") == "10.0.0.1"
    assert (
        address_key("2001:db8:1:2:3:4:5:6")
        == address_key("2001:db8:1:2::9")
        == ("2001:db8:1:2::/64")
    )
    assert address_key("::ffff:10.0.0.1") == "10.0.0.1"
    assert address_key("unknown") == "unknown"
    t = Throttle(FakeServerClock())
    for i in range(6):
        t.failed("anna", f"2001:db8::{i + 1}")  # a new address of the same /64 each time
    assert t.retry_after("anna", "2001:db8::ffff") is not None
    assert t.retry_after("anna", "2001:db8:0:1::1") is None


def test_rate_limit_per_key_with_a_sliding_window() -> None:
    clock = FakeServerClock()
    limit = RateLimit(clock, 3, 60.0)
    for _ in range(3):
        assert limit.hit("a") is None
        clock.advance(10)
    assert limit.hit("a") == 30  # the first event ages out at t=60; now t=30
    assert limit.hit("b") is None
    clock.advance(30)
    assert limit.hit("a") is None
