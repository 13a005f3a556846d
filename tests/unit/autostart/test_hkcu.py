"""The registry seam: the real HKCU only on Windows, a clear refusal anywhere else."""

from __future__ import annotations

import sys

import pytest

from vms_tray.autostart.hkcu import WinRegistry, default_registry
from vms_tray.autostart.registry import RUN_KEY
from vms_tray.errors import AutostartError


def test_only_windows_gets_the_real_registry() -> None:
    assert isinstance(default_registry("win32"), WinRegistry)
    assert default_registry("linux") is None
    assert default_registry("darwin") is None


@pytest.mark.skipif(sys.platform == "win32", reason="the refusal of every other platform")
def test_the_windows_registry_refuses_to_work_elsewhere() -> None:
    registry = WinRegistry()
    with pytest.raises(AutostartError, match="only on Windows"):
        registry.get(RUN_KEY, "vms-tray")
    with pytest.raises(AutostartError, match="only on Windows"):
        registry.set_string(RUN_KEY, "vms-tray", "x")
    with pytest.raises(AutostartError, match="only on Windows"):
        registry.delete(RUN_KEY, "vms-tray")
