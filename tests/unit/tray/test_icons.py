"""The state icons as shipped: every state has its files, and states a user must tell apart differ
visibly at 16 px (the usual tray size)."""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image, ImageChops

from vms_tray import assets
from vms_tray.assets import IconName
from vms_tray.session.snapshot import Snapshot, State
from vms_tray.tray.view import icon_for

SIZES = (16, 24, 32, 48)


def rendered(name: IconName, size: int, panel: str) -> Image.Image:
    """The icon as a tray shows it: composited on a panel colour, RGB."""
    data = assets.icon(f"{name.value}-{size}.png").read_bytes()
    icon = Image.open(BytesIO(data)).convert("RGBA")
    assert icon.size == (size, size)
    back = Image.new("RGBA", icon.size, panel)
    return Image.alpha_composite(back, icon).convert("RGB")


def changed_share(a: Image.Image, b: Image.Image, threshold: int = 64) -> float:
    """The share of pixels where some channel differs by more than ``threshold``."""
    raw = ImageChops.difference(a, b).convert("RGB").tobytes()
    px = [raw[i : i + 3] for i in range(0, len(raw), 3)]
    return sum(1 for p in px if max(p) > threshold) / len(px)


@pytest.mark.parametrize("name", list(IconName))
def test_every_state_has_its_icon_at_every_size(name: IconName) -> None:
    for size in SIZES:
        rendered(name, size, "#ffffff")
    assert assets.icon(f"{name.value}.png").is_file()


def test_blocked_at_the_limit_and_signed_in_full_are_different_icons() -> None:
    full = Snapshot(state=State.SIGNED_IN, sessions_in_use=3, max_sessions=3)
    blocked = Snapshot(state=State.LIMIT_REACHED, sessions_in_use=3, max_sessions=3)
    assert icon_for(full) is IconName.SIGNED_IN_FULL
    assert icon_for(blocked) is IconName.LIMIT_REACHED


@pytest.mark.parametrize("panel", ["#f3f3f3", "#2b2b2b"])
def test_blocked_at_the_limit_differs_from_signed_in_full_at_16_px(panel: str) -> None:
    a = rendered(IconName.LIMIT_REACHED, 16, panel)
    b = rendered(IconName.SIGNED_IN_FULL, 16, panel)
    # Before the fix the two were one file (share 0). Now the disc itself differs (grey against
    # orange): over a third of the 256 pixels, not a badge-sized detail.
    assert changed_share(a, b) > 0.35


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (IconName.SIGNED_IN_FULL, IconName.NEAR_LIMIT),
        (IconName.SIGNED_IN_FULL, IconName.SIGNED_IN),
        (IconName.LIMIT_REACHED, IconName.SIGNED_OUT),
        (IconName.LIMIT_REACHED, IconName.OFFLINE),
        (IconName.LIMIT_REACHED, IconName.ERROR),
    ],
)
def test_neighbouring_states_differ_at_16_px(one: IconName, other: IconName) -> None:
    assert changed_share(rendered(one, 16, "#f3f3f3"), rendered(other, 16, "#f3f3f3")) > 0.05
