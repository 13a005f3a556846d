"""Words for the engine's notification topics: plain numbers, the server's name, each notice's
topic, urgency, expiry and icon."""

from __future__ import annotations

import pytest

from vms_tray.daemon.notices import seats


@pytest.mark.parametrize(
    ("n", "m", "text"),
    [
        (2, 3, "2 of 3 sessions in use — 1 seat left"),
        (1, 3, "1 of 3 sessions in use — 2 seats left"),
        (3, 3, "3 of 3 sessions in use — no seats left"),
        (4, None, "4 sessions in use (no limit)"),
    ],
)
def test_seat_wording(n: int, m: int | None, text: str) -> None:
    assert seats(n, m) == text
