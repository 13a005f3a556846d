"""The reference server's settings refuse what it could not serve: an unknown captcha policy,
durations below a second (they go out as whole seconds) and a session limit below one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from vms_tray.refserver.config import CAPTCHA_POLICIES, DEFAULT_CONFIG, ServerConfig


def test_config_rejects_unknown_captcha_policy_and_sub_second_durations() -> None:
    with pytest.raises(ValueError, match="captcha policy"):
        ServerConfig(captcha="sometimes")
    with pytest.raises(ValueError, match="idle timeout must be at least 1 second"):
        ServerConfig(idle_timeout=0.5)
    with pytest.raises(ValueError, match="session limit"):
        ServerConfig(max_sessions=0)
    ServerConfig(idle_timeout=None, max_sessions=None)


@pytest.mark.parametrize(
    ("field", "what"),
    [
        ("idle_timeout", "idle timeout"),
        ("access_ttl", "access token lifetime"),
        ("refresh_ttl", "refresh token lifetime"),
        ("conflict_ttl", "conflict token lifetime"),
    ],
)
def test_each_duration_must_be_at_least_a_second(field: str, what: str) -> None:
    below: dict[str, Any] = {field: 0.999}
    exactly: dict[str, Any] = {field: 1.0}
    with pytest.raises(ValueError, match=f"^the {what} must be at least 1 second$"):
        replace(DEFAULT_CONFIG, **below)
    assert getattr(replace(DEFAULT_CONFIG, **exactly), field) == 1.0


@pytest.mark.parametrize("policy", CAPTCHA_POLICIES)
def test_every_captcha_policy_is_accepted(policy: str) -> None:
    assert ServerConfig(captcha=policy).captcha == policy


def test_the_defaults_are_a_valid_config_of_two_seats_without_captcha() -> None:
    assert ServerConfig() == DEFAULT_CONFIG
    assert (DEFAULT_CONFIG.captcha, DEFAULT_CONFIG.max_sessions) == ("never", 2)
