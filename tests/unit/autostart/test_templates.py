"""The service templates: every placeholder given, every value used, nothing left over."""

from __future__ import annotations

import re

import pytest

from vms_tray.autostart import templates

TEMPLATES = (
    "autostart.desktop.in",
    "launcher.desktop.in",
    "launchagent.plist.in",
    "macos-app-Info.plist.in",
    "macos-app-launcher.sh.in",
    "vms-tray.service.in",
    "windows-run.reg.in",
)


def test_render_fills_the_placeholder() -> None:
    text = templates.render("windows-run.reg.in", reg_value='"C:\\\\py.exe"')
    assert '"vms-tray"="C:\\\\py.exe"' in text
    assert "@" not in text


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_placeholder_of_a_shipped_template_is_filled(name: str) -> None:
    keys = set(re.findall(r"@([a-z_]+)@", templates.read(name)))
    assert keys, f"{name} has no placeholder"
    text = templates.render(name, **{key: f"<{key}>" for key in keys})
    assert re.search(r"@[a-z_]+@", text) is None
    assert all(f"<{key}>" in text for key in keys)


def test_a_missing_value_is_refused() -> None:
    with pytest.raises(KeyError, match="needs a value for @reg_value@"):
        templates.render("windows-run.reg.in")


def test_a_value_without_its_placeholder_is_refused() -> None:
    with pytest.raises(KeyError, match=r"has no placeholder for \['extra'\]"):
        templates.render("windows-run.reg.in", reg_value='"x"', extra="y")


def test_read_bytes_gives_the_packaged_icon() -> None:
    assert templates.read_bytes("icons", "vms-tray.png").startswith(b"\x89PNG\r\n\x1a\n")
