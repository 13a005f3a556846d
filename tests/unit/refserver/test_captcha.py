from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from tests.support.refserver import logged_captcha_answer
from vms_tray.refserver.captcha import (
    ALPHABET,
    CaptchaCheck,
    CaptchaStore,
    new_answer,
    render,
)
from vms_tray.testing.clock import FakeServerClock


@pytest.fixture
def log(tmp_path: Path) -> Path:
    """The store's answer log: how the tests learn what a captcha says."""
    return tmp_path / "captcha-answers"


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


def test_issue_check_single_use_and_case_insensitive(log: Path) -> None:
    store = CaptchaStore(FakeServerClock(), answer_log=log)
    issued = store.issue()
    assert issued.expires_in == 60
    body = issued.as_json()
    assert base64.b64decode(str(body["image_png"])).startswith(b"\x89PNG\r\n\x1a\n")
    answer = logged_captcha_answer(log, issued.captcha_id)
    assert store.check(issued.captcha_id, f" {answer.lower()} ") is CaptchaCheck.OK
    assert store.check(issued.captcha_id, answer) is CaptchaCheck.INVALID


def test_wrong_answer_spends_the_captcha(log: Path) -> None:
    store = CaptchaStore(FakeServerClock(), answer_log=log)
    issued = store.issue()
    answer = logged_captcha_answer(log, issued.captcha_id)
    assert store.check(issued.captcha_id, "nope") is CaptchaCheck.INVALID
    assert store.check(issued.captcha_id, answer) is CaptchaCheck.INVALID


def test_expiry_after_one_minute_is_enforced(log: Path) -> None:
    clock = FakeServerClock()
    store = CaptchaStore(clock, answer_log=log)
    kept, late = store.issue(), store.issue()
    clock.advance(59)
    assert (
        store.check(kept.captcha_id, logged_captcha_answer(log, kept.captcha_id)) is CaptchaCheck.OK
    )
    clock.advance(2)
    answer = logged_captcha_answer(log, late.captcha_id)
    assert store.check(late.captcha_id, answer) is CaptchaCheck.EXPIRED


def test_replaces_invalidates_the_old_one(log: Path) -> None:
    store = CaptchaStore(FakeServerClock(), answer_log=log)
    old = store.issue()
    answer = logged_captcha_answer(log, old.captcha_id)
    new = store.issue(replaces=old.captcha_id)
    assert new.captcha_id != old.captcha_id
    assert store.check(old.captcha_id, answer) is CaptchaCheck.INVALID


def test_unknown_id_is_invalid() -> None:
    assert CaptchaStore(FakeServerClock()).check("nope", "ACDEF") is CaptchaCheck.INVALID


def test_outstanding_captchas_per_address_are_bounded_oldest_retired(
    monkeypatch: pytest.MonkeyPatch,
    log: Path,
) -> None:
    from vms_tray.refserver import captcha

    monkeypatch.setattr(captcha, "MAX_PER_OWNER", 3)
    monkeypatch.setattr(captcha, "render", lambda answer: b"png")
    store = CaptchaStore(FakeServerClock(), answer_log=log)
    first = [store.issue(owner="10.0.0.1") for _ in range(3)]
    answers = [logged_captcha_answer(log, c.captcha_id) for c in first]
    other = store.issue(owner="10.0.0.2")
    newest = store.issue(owner="10.0.0.1")
    assert store.outstanding("10.0.0.1") == 3 and store.outstanding() == 4
    # The address's oldest was retired (it reads as expired), the rest still answer.
    assert store.check(first[0].captcha_id, answers[0]) is CaptchaCheck.EXPIRED
    assert store.check(first[1].captcha_id, answers[1]) is CaptchaCheck.OK
    assert store.check(newest.captcha_id, logged_captcha_answer(log, newest.captcha_id)) is (
        CaptchaCheck.OK
    )
    assert store.check(other.captcha_id, logged_captcha_answer(log, other.captcha_id)) is (
        CaptchaCheck.OK
    )


def test_a_full_store_retires_the_busiest_address_never_refuses_another(
    monkeypatch: pytest.MonkeyPatch,
    log: Path,
) -> None:
    from vms_tray.refserver import captcha

    monkeypatch.setattr(captcha, "MAX_OUTSTANDING", 6)
    monkeypatch.setattr(captcha, "render", lambda answer: b"png")
    store = CaptchaStore(FakeServerClock(), answer_log=log)
    victim = store.issue(owner="10.0.0.9")
    flood = [store.issue(owner=f"10.6.6.{i % 2}") for i in range(50)]
    assert store.outstanding() == 6
    # Other addresses still get captchas, and the flood pays with its own oldest ones.
    late = store.issue(owner="10.0.0.8")
    for c in (victim, late):
        assert (
            store.check(c.captcha_id, logged_captcha_answer(log, c.captcha_id)) is CaptchaCheck.OK
        )
    assert store.check(flood[0].captcha_id, "x") is CaptchaCheck.EXPIRED


def test_spent_and_expired_captchas_do_not_count_as_outstanding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from vms_tray.refserver import captcha

    monkeypatch.setattr(captcha, "MAX_OUTSTANDING", 3)
    monkeypatch.setattr(captcha, "render", lambda answer: b"png")
    clock = FakeServerClock()
    store = CaptchaStore(clock)
    spent = store.issue(owner="a")
    store.check(spent.captcha_id, "x")
    store.issue(owner="b")
    store.issue(owner="c")
    clock.advance(61)
    assert store.issue(owner="d") and store.outstanding() == 1
    # Still remembered: the expired one says so, the spent one is invalid.
    assert store.check(spent.captcha_id, "x") is CaptchaCheck.INVALID


def test_answer_log_test_hook(log: Path) -> None:
    store = CaptchaStore(FakeServerClock(), answer_log=log)
    first, second = store.issue(), store.issue()
    lines = log.read_text().splitlines()
    assert [line.split(" ")[0] for line in lines] == [first.captcha_id, second.captcha_id]
    # Each line holds the answer the store accepts; only the owner may read the log.
    for issued, line in zip((first, second), lines, strict=True):
        _, answer = line.split(" ")
        assert store.check(issued.captcha_id, answer) is CaptchaCheck.OK
    assert log.stat().st_mode & 0o077 == 0
