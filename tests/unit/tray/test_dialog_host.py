"""Every dialog request carries the tray's language; close and current go by name."""

from __future__ import annotations

from tests.unit.tray.fakes import FakeLauncher
from vms_tray import i18n
from vms_tray.tray.dialog_host import DialogHost


def test_requests_carry_the_language_and_close_goes_by_name() -> None:
    i18n.install("ru")
    try:
        launcher = FakeLauncher()
        host = DialogHost(launcher)
        host.open("about", {"version": "1.0"}, lambda _a: None)
        request, _ans, _ev = launcher.last("about")
        assert request == {"language": "ru", "version": "1.0"}
        assert host.current("about") is launcher.handles["about"]
        host.close("about")
        host.close("never opened")  # nothing to close: nothing happens
        assert launcher.handles["about"].closed and host.current("about") is None
    finally:
        i18n.install("en")
