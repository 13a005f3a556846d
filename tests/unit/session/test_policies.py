from __future__ import annotations

import random

import pytest

from vms_tray.session.policies import EnginePolicy, Level, Timing


@pytest.mark.parametrize("lifetime", [5, 30, 60, 61, 120, 900, 3600, 86400])
def test_refresh_is_before_expiry_with_margin(lifetime: float) -> None:
    policy = EnginePolicy(Timing(), random.Random(7))
    for _ in range(200):
        delay = policy.refresh_delay(lifetime)
        assert delay >= 1.0 or lifetime < 2
        assert delay < lifetime
        if lifetime > 60:
            assert lifetime - delay >= 30
            assert delay >= 0.5 * lifetime * 0.99 or lifetime - delay == 30


def test_refresh_is_jittered() -> None:
    policy = EnginePolicy(Timing(), random.Random(1))
    assert len({round(policy.refresh_delay(900), 3) for _ in range(20)}) > 10


def test_backoff_grows_and_caps() -> None:
    policy = EnginePolicy(Timing(backoff_initial=2, backoff_cap=300), random.Random(3))
    for attempt in range(40):
        d = policy.backoff_delay(attempt)
        step = min(300, 2 * 2**attempt)
        assert step / 2 <= d <= step
    assert policy.backoff_delay(10_000) <= 300


def test_retry_after_wins_but_is_bounded() -> None:
    policy = EnginePolicy(Timing(), random.Random(3))
    assert policy.backoff_delay(0, retry_after=50) == 50
    assert policy.backoff_delay(0, retry_after=10**9) == 3600
    assert policy.seat_retry_delay(retry_after=100) == 100


@pytest.mark.parametrize(
    ("in_use", "maximum", "margin", "level"),
    [
        (None, 3, 1, Level.UNKNOWN),
        (1, None, 1, Level.UNKNOWN),
        (1, 3, 1, Level.UNDER),
        (2, 3, 1, Level.NEAR),
        (3, 3, 1, Level.FULL),
        (4, 3, 1, Level.FULL),
        (1, 1, 1, Level.FULL),
        (0, 1, 1, Level.NEAR),
        (3, 10, 2, Level.UNDER),
        (8, 10, 2, Level.NEAR),
        (9, 10, 0, Level.UNDER),
    ],
)
def test_levels(in_use: int | None, maximum: int | None, margin: int, level: Level) -> None:
    assert EnginePolicy(Timing(warn_margin=margin)).level(in_use, maximum) is level
