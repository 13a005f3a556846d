"""What ``vms-tray demo --flavor aipix`` tells the user to try."""

from __future__ import annotations

from pathlib import Path

from vms_tray.app.demo_aipix import aipix_lines, demo_data


def test_the_instructions_name_the_aipix_flow() -> None:
    text = "\n".join(aipix_lines(300))
    assert "AIPIX VMS Client API" in text and "Refresh" in text and "5 minutes" in text
    assert demo_data(Path("/d")) == Path("/d/aipix-server")
