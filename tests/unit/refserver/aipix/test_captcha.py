"""Stateless captcha keys (note §3 E2 [INF]): the answer and the expiry sealed in the key."""

from __future__ import annotations

from pathlib import Path

from vms_tray.refserver.aipix.captcha import ALPHABET, KEY_PREFIX, CaptchaKeys
from vms_tray.refserver.captcha import CaptchaCheck
from vms_tray.testing.clock import FakeServerClock


def test_a_key_checks_its_answer_without_state(tmp_path: Path) -> None:
    clock = FakeServerClock()
    keys = CaptchaKeys(clock, 60, answer_log=tmp_path / "log")
    issued = keys.issue()
    assert issued.key.startswith(KEY_PREFIX) and set(issued.answer) <= set(ALPHABET)
    assert "O" not in ALPHABET and "0" not in ALPHABET
    assert keys.check(issued.key, issued.answer) is CaptchaCheck.OK
    assert keys.check(issued.key, issued.answer) is CaptchaCheck.OK  # not spent: stateless
    assert keys.check(issued.key, issued.answer.swapcase()) is CaptchaCheck.INVALID
    assert (tmp_path / "log").read_text().split() == [issued.key, issued.answer]
    clock.advance(61)
    assert keys.check(issued.key, issued.answer) is CaptchaCheck.EXPIRED


def test_another_servers_or_a_forged_key_is_invalid() -> None:
    clock = FakeServerClock()
    issued = CaptchaKeys(clock, 60).issue()
    assert CaptchaKeys(clock, 60).check(issued.key, issued.answer) is CaptchaCheck.INVALID
    keys = CaptchaKeys(clock, 60)
    for forged in ("nope", KEY_PREFIX + "!!!", KEY_PREFIX + "AAAA", issued.key[:-2]):
        assert keys.check(forged, issued.answer) is CaptchaCheck.INVALID
