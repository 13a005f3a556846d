"""The Linux tray backend choice (pure: the probes are passed in)."""

from __future__ import annotations

import pytest

from vms_tray.tray.backend import choose


def _choose(
    platform: str = "linux", explicit: str | None = None, gi: bool = True, sni: bool = False
) -> str | None:
    return choose(platform=platform, explicit=explicit, have_gi=lambda: gi, sni_watcher=lambda: sni)


@pytest.mark.parametrize(
    ("gi", "sni", "expected"),
    [
        (True, True, "appindicator"),
        (True, False, "gtk"),
        (False, True, "xorg"),
        (False, False, "xorg"),
    ],
)
def test_linux_choice(gi: bool, sni: bool, expected: str) -> None:
    assert _choose(gi=gi, sni=sni) == expected


def test_an_explicit_backend_is_left_alone() -> None:
    assert _choose(explicit="xorg", gi=True, sni=True) is None


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_other_platforms_keep_pystrays_default(platform: str) -> None:
    assert _choose(platform=platform) is None
