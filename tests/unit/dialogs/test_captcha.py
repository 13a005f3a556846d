"""The captcha dialog's pure part: how long a picture is valid (the window is tested in
tests/desktop/dialogs/test_captcha.py)."""

from __future__ import annotations

import pytest

from vms_tray.dialogs.captcha import _seconds


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(None, 60.0), (30, 30.0), ("45", 45.0), (0, 0.0), (-5, 0.0), (1.5, 1.5)],
)
def test_validity_defaults_to_a_minute_and_never_goes_below_zero(
    value: object, seconds: float
) -> None:
    assert _seconds(value) == seconds
