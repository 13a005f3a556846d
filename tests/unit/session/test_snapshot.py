"""The snapshot views render: when the seat count is near the limit, and when it is full."""

from __future__ import annotations

import pytest

from vms_tray.session.snapshot import Snapshot


@pytest.mark.parametrize(
    ("in_use", "maximum", "margin", "near", "full"),
    [
        (1, 3, 1, False, False),
        (2, 3, 1, True, False),  # one seat left
        (3, 3, 1, True, True),
        (4, 3, 1, True, True),  # more than the limit: the server counts others first
        (3, 5, 2, True, False),  # the margin is the user's setting
        (2, 5, 2, False, False),
        (1, 1, 0, True, True),
        (0, 1, 0, False, False),
    ],
)
def test_near_and_full_follow_the_counts_and_the_margin(
    in_use: int, maximum: int, margin: int, near: bool, full: bool
) -> None:
    snap = Snapshot(sessions_in_use=in_use, max_sessions=maximum, warn_margin=margin)
    assert (snap.near_limit, snap.full) == (near, full)


@pytest.mark.parametrize(("in_use", "maximum"), [(None, 3), (5, None), (None, None)])
def test_without_both_counts_nothing_is_near_or_full(
    in_use: int | None, maximum: int | None
) -> None:
    snap = Snapshot(sessions_in_use=in_use, max_sessions=maximum)
    assert not snap.near_limit and not snap.full
