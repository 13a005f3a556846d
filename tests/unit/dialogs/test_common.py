"""What every dialog shares, without a display: the scale factor, the translations."""

from __future__ import annotations

import pytest

from vms_tray import i18n
from vms_tray.dialogs.common import T, scale_factor


@pytest.mark.parametrize(
    ("env", "dpi", "scale"),
    [
        ({"VMS_TRAY_SCALE": "2"}, None, 2.0),
        ({"VMS_TRAY_SCALE": "nonsense"}, 144.0, 1.5),
        ({"VMS_TRAY_SCALE": "9"}, None, 1.0),
        ({}, 192.0, 2.0),
        ({}, None, 1.0),
    ],
)
def test_scale_factor(env: dict[str, str], dpi: float | None, scale: float) -> None:
    assert scale_factor(env, xft_dpi=dpi if dpi is not None else 0.0) == scale


@pytest.mark.parametrize(("dpi", "scale"), [(960.0, 4.0), (24.0, 0.5), (-96.0, 1.0)])
def test_the_screen_dpi_is_kept_within_the_usable_scales(dpi: float, scale: float) -> None:
    assert scale_factor({}, xft_dpi=dpi) == scale


def test_a_scale_setting_outside_the_range_falls_back_to_the_screen() -> None:
    assert scale_factor({"VMS_TRAY_SCALE": "0.1"}, xft_dpi=120.0) == 1.25


def test_dialog_texts_follow_the_installed_catalog() -> None:
    try:
        i18n.install("ru")
        assert T("just now") == "только что"
        i18n.install("en")
        assert T("just now") == "just now"
    finally:
        i18n.install("en")
