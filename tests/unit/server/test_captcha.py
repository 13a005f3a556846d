from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from vms_tray.server.captcha import (
    ALPHABET,
    CaptchaCheck,
    CaptchaFull,
    CaptchaStore,
    new_answer,
    render,
)
from vms_tray.server.clock import FakeClock


def test_alphabet_has_no_look_alikes() -> None:
    for ch in "0O1lI":
        assert ch not in ALPHABET
    answers = [new_answer() for _ in range(500)]
    assert {len(a) for a in answers} == {5, 6}
    assert all(set(a) <= set(ALPHABET) for a in answers)


def test_render_is_a_real_png_with_noise() -> None:
    png = render("ACDEF")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (200, 70)
    # Distorted text over noise: many distinct colours, not a flat picture.
    colours = image.convert("RGB").getcolors(maxcolors=200 * 70)
    assert colours is not None and len(colours) > 500
    assert render("ACDEF") != png  # random distortion every time


def test_issue_check_single_use_and_case_insensitive() -> None:
    store = CaptchaStore(FakeClock())
    issued = store.issue()
    assert issued.expires_in == 60
    body = issued.as_json()
    assert base64.b64decode(str(body["image_png"])).startswith(b"\x89PNG\r\n\x1a\n")
    answer = store.answer_for_tests(issued.captcha_id)
    assert store.check(issued.captcha_id, f" {answer.lower()} ") is CaptchaCheck.OK
    assert store.check(issued.captcha_id, answer) is CaptchaCheck.INVALID


def test_wrong_answer_spends_the_captcha() -> None:
    store = CaptchaStore(FakeClock())
    issued = store.issue()
    answer = store.answer_for_tests(issued.captcha_id)
    assert store.check(issued.captcha_id, "nope") is CaptchaCheck.INVALID
    assert store.check(issued.captcha_id, answer) is CaptchaCheck.INVALID


def test_expiry_after_one_minute_is_enforced() -> None:
    clock = FakeClock()
    store = CaptchaStore(clock)
    kept, late = store.issue(), store.issue()
    clock.advance(59)
    assert store.check(kept.captcha_id, store.answer_for_tests(kept.captcha_id)) is CaptchaCheck.OK
    clock.advance(2)
    answer = store.answer_for_tests(late.captcha_id)
    assert store.check(late.captcha_id, answer) is CaptchaCheck.EXPIRED


def test_replaces_invalidates_the_old_one() -> None:
    store = CaptchaStore(FakeClock())
    old = store.issue()
    answer = store.answer_for_tests(old.captcha_id)
    new = store.issue(replaces=old.captcha_id)
    assert new.captcha_id != old.captcha_id
    assert store.check(old.captcha_id, answer) is CaptchaCheck.INVALID


def test_unknown_id_is_invalid() -> None:
    assert CaptchaStore(FakeClock()).check("nope", "ACDEF") is CaptchaCheck.INVALID


def test_outstanding_captchas_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from vms_tray.server import captcha

    monkeypatch.setattr(captcha, "MAX_OUTSTANDING", 3)
    clock = FakeClock()
    store = CaptchaStore(clock)
    for _ in range(3):
        store.issue()
    with pytest.raises(CaptchaFull):
        store.issue()
    clock.advance(60 + captcha.REMEMBER + 1)  # old ones are forgotten
    store.issue()


def test_answer_log_test_hook(tmp_path: Path) -> None:
    log = tmp_path / "answers"
    store = CaptchaStore(FakeClock(), answer_log=log)
    issued = store.issue()
    assert log.read_text() == f"{issued.captcha_id} {store.answer_for_tests(issued.captcha_id)}\n"
