"""The Run key of HKEY_CURRENT_USER (an in-memory registry here) and Task Manager's switch."""

from __future__ import annotations

import pytest

from tests.unit.autostart.fakes import (
    SystemFactory,
    backend_for,
)
from vms_tray.autostart import AutostartError, get_backend
from vms_tray.autostart.launch import windows_cmdline
from vms_tray.autostart.registry import APPROVED_KEY, RUN_KEY
from vms_tray.testing.autostart import MemoryRegistry


def test_registry_value_and_task_manager_flag(make_system: SystemFactory) -> None:
    backend = backend_for("registry", make_system)
    reg: MemoryRegistry = make_system.registry
    backend.enable()
    value = reg.get(RUN_KEY, "vms-tray")
    assert value == windows_cmdline(backend.system.gui_command)
    assert backend.location == rf"HKEY_CURRENT_USER\{RUN_KEY}\vms-tray"

    # Task Manager's "Disable" writes 03 00.. under StartupApproved\Run.
    reg.set_binary(APPROVED_KEY, "vms-tray", b"\x03" + b"\x00" * 11)
    assert backend.status().active is False
    assert not backend.is_enabled()
    backend.enable()
    assert reg.get(APPROVED_KEY, "vms-tray") is None
    assert backend.is_enabled()

    reg.set_string(RUN_KEY, "Other", "other.exe")
    backend.disable()
    assert reg.values == {(RUN_KEY.lower(), "other"): "other.exe"}


def test_registry_backend_refuses_without_a_registry(make_system: SystemFactory) -> None:
    backend = get_backend("registry", make_system("linux"), check=False)
    assert not backend.viable
    with pytest.raises(AutostartError, match="only on Windows"):
        backend.enable()
    assert "vms-tray" in backend.render()  # rendering a .reg file works anywhere
