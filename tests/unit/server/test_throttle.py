from __future__ import annotations

from vms_tray.server.clock import FakeClock
from vms_tray.server.throttle import Throttle, ThrottlePolicy


def test_five_failures_in_a_minute_block_until_the_oldest_ages_out() -> None:
    clock = FakeClock()
    t = Throttle(clock)
    for _ in range(4):
        t.failed("anna", "a")
        clock.advance(5)
    assert t.retry_after("anna", "b") is None
    t.failed("anna", "a")  # 5th, at t=20; the first was at t=0
    assert t.retry_after("anna", "b") == 40
    clock.advance(30)
    assert t.retry_after("anna", "b") == 10
    clock.advance(10.5)
    assert t.retry_after("anna", "b") is None


def test_per_address_across_logins() -> None:
    t = Throttle(FakeClock())
    for login in "abcde":
        t.failed(login, "10.0.0.1")
    assert t.retry_after("zed", "10.0.0.1") == 60
    assert t.retry_after("zed", "10.0.0.2") is None


def test_captcha_due_after_three_in_fifteen_minutes() -> None:
    clock = FakeClock()
    t = Throttle(clock)
    t.failed("anna", "a")
    t.failed("anna", "a")
    assert not t.captcha_due("anna", "b")
    clock.advance(800)
    t.failed("anna", "c")
    assert t.captcha_due("anna", "b")
    assert t.captcha_due("bob", "a") is False  # address "a" has only two
    clock.advance(101)
    assert not t.captcha_due("anna", "b")


def test_success_clears_the_login_not_the_address() -> None:
    t = Throttle(FakeClock(), ThrottlePolicy(max_failures=2, captcha_after=2))
    t.failed("anna", "a")
    t.failed("anna", "a")
    t.succeeded("anna")
    assert t.retry_after("anna", "z") is None
    assert t.retry_after("bob", "a") is not None


def test_rate_limit_per_key_with_a_sliding_window() -> None:
    from vms_tray.server.throttle import RateLimit

    clock = FakeClock()
    limit = RateLimit(clock, 3, 60.0)
    for _ in range(3):
        assert limit.hit("a") is None
        clock.advance(10)
    assert limit.hit("a") == 30  # the first event ages out at t=60; now t=30
    assert limit.hit("b") is None
    clock.advance(30)
    assert limit.hit("a") is None
