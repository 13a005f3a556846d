"""The popup menu's pure part: where it opens (the menu itself is driven on a real X server by
tests/desktop/tray/test_icon.py, through the tray's Xorg backend)."""

from __future__ import annotations

import pytest

from vms_tray.dialogs.menu import _coord


@pytest.mark.parametrize(("value", "coord"), [(120, 120), ("35", 35), (7.9, 7), (0, 0)])
def test_a_coordinate_of_the_request_is_used(value: object, coord: int) -> None:
    assert _coord(value, fallback=500) == coord


@pytest.mark.parametrize("value", [None, "", "left", [1]])
def test_a_missing_or_garbled_coordinate_falls_back_to_the_pointer(value: object) -> None:
    assert _coord(value, fallback=500) == 500
