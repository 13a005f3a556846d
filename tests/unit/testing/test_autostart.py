"""testing/autostart: MemoryRegistry behaves as the part of HKEY_CURRENT_USER autostart uses
(vms_tray.autostart.hkcu.Registry): keys and value names ignore case as Windows's do, a missing
value reads as None, and a delete says whether there was something to delete."""

from __future__ import annotations

from vms_tray.autostart.hkcu import Registry
from vms_tray.testing.autostart import MemoryRegistry

RUN = r"Software\Microsoft\Windows\CurrentVersion\Run"


def test_a_value_set_reads_back_and_a_missing_one_is_none() -> None:
    reg: Registry = MemoryRegistry()
    assert reg.get(RUN, "vms-tray") is None
    reg.set_string(RUN, "vms-tray", '"C:\\vms tray\\vms-tray.exe" run')
    assert reg.get(RUN, "vms-tray") == '"C:\\vms tray\\vms-tray.exe" run'
    reg.set_string(RUN, "vms-tray", "again")
    assert reg.get(RUN, "vms-tray") == "again"


def test_keys_and_names_ignore_case() -> None:
    reg = MemoryRegistry()
    reg.set_string(RUN, "VMS-Tray", "x")
    assert reg.get(RUN.upper(), "vms-tray") == "x"
    reg.set_string(RUN.lower(), "vms-tray", "y")  # the same value, not a second one
    assert reg.get(RUN, "VMS-TRAY") == "y"
    assert len(reg.values) == 1


def test_the_same_name_under_another_key_is_another_value() -> None:
    reg = MemoryRegistry()
    reg.set_string(RUN, "vms-tray", "run")
    assert reg.get(RUN + "Once", "vms-tray") is None
    assert reg.get(RUN, "other") is None


def test_a_delete_says_whether_the_value_was_there() -> None:
    reg = MemoryRegistry()
    assert reg.delete(RUN, "vms-tray") is False
    reg.set_string(RUN, "vms-tray", "x")
    assert reg.delete(RUN, "VMS-TRAY") is True
    assert reg.get(RUN, "vms-tray") is None
    assert reg.delete(RUN, "vms-tray") is False


def test_binary_values_read_back_as_bytes() -> None:
    """What Windows keeps under StartupApproved (the Settings app's switch), which a test
    sets to see the backend read it."""
    reg = MemoryRegistry()
    approved = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
    reg.set_binary(approved, "vms-tray", b"\x03" + b"\x00" * 11)
    assert reg.get(approved, "VMS-TRAY") == b"\x03" + b"\x00" * 11
