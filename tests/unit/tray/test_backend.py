"""The Linux tray backend choice (pure: the environment and the probes are passed in)."""

from __future__ import annotations

import sys

import pytest

from vms_tray.tray import backend
from vms_tray.tray.backend import choose


def _choose(
    platform: str = "linux",
    explicit: str | None = None,
    gi: bool = True,
    sni: bool = False,
    environ: dict[str, str] | None = None,
) -> str | None:
    return choose(
        platform=platform,
        explicit=explicit,
        environ=environ or {},
        have_gi=lambda: gi,
        sni_watcher=lambda: sni,
    )


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


@pytest.mark.parametrize(
    "environ",
    [
        {"WAYLAND_DISPLAY": "wayland-0"},
        {"XDG_SESSION_TYPE": "wayland"},
        {"XDG_SESSION_TYPE": "Wayland"},
        {"XDG_SESSION_TYPE": "wayland", "XDG_CURRENT_DESKTOP": "XFCE"},
        {"XDG_CURRENT_DESKTOP": "KDE"},
        {"XDG_CURRENT_DESKTOP": "GNOME"},
        {"XDG_CURRENT_DESKTOP": "ubuntu:GNOME"},
        {"XDG_CURRENT_DESKTOP": "GNOME-Flashback:GNOME"},
        {"XDG_CURRENT_DESKTOP": "Unity:Unity7:ubuntu"},
        {"XDG_CURRENT_DESKTOP": "Pantheon"},
        {"XDG_CURRENT_DESKTOP": "kde", "XDG_SESSION_TYPE": "x11"},
    ],
)
def test_a_statusnotifier_desktop_gets_appindicator_before_its_watcher_is_up(
    environ: dict[str, str],
) -> None:
    """At login the tray may start before the panel that will own the watcher."""
    assert _choose(sni=False, environ=environ) == "appindicator"


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"XDG_SESSION_TYPE": "x11"},
        {"XDG_SESSION_TYPE": "tty"},
        {"WAYLAND_DISPLAY": ""},
        {"XDG_CURRENT_DESKTOP": "XFCE"},
        {"XDG_CURRENT_DESKTOP": "MATE"},
        {"XDG_CURRENT_DESKTOP": "LXDE"},
        {"XDG_CURRENT_DESKTOP": "X-Cinnamon"},
        {"XDG_CURRENT_DESKTOP": "GNOMEISH"},  # a desktop's name, not a word of it
    ],
)
def test_an_xembed_desktop_without_a_watcher_gets_gtk(environ: dict[str, str]) -> None:
    assert _choose(sni=False, environ=environ) == "gtk"


def test_a_watcher_on_the_bus_selects_appindicator_on_any_desktop() -> None:
    assert _choose(sni=True, environ={"XDG_CURRENT_DESKTOP": "XFCE"}) == "appindicator"


def test_a_statusnotifier_desktop_needs_no_bus_probe() -> None:
    def probe() -> bool:
        raise AssertionError("the session bus was asked")

    environ = {"XDG_CURRENT_DESKTOP": "KDE"}
    name = choose(
        platform="linux", explicit=None, environ=environ, have_gi=lambda: True, sni_watcher=probe
    )
    assert name == "appindicator"


def test_without_gi_a_statusnotifier_desktop_still_gets_xorg() -> None:
    # AppIndicator and GTK both need PyGObject.
    environ = {"XDG_CURRENT_DESKTOP": "KDE", "WAYLAND_DISPLAY": "wayland-0"}
    assert _choose(gi=False, environ=environ) == "xorg"


def test_an_explicit_backend_is_left_alone() -> None:
    environ = {"XDG_CURRENT_DESKTOP": "KDE"}
    assert _choose(explicit="xorg", gi=True, sni=True, environ=environ) is None


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_other_platforms_keep_pystrays_default(platform: str) -> None:
    assert _choose(platform=platform, environ={"WAYLAND_DISPLAY": "wayland-0"}) is None


def test_apply_reads_the_environment_it_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(backend, "_have_gi", lambda: True)
    monkeypatch.setattr(backend, "_sni_watcher", lambda: False)
    environ = {"XDG_CURRENT_DESKTOP": "KDE"}
    backend.apply(environ)
    assert environ[backend.ENV] == "appindicator"
