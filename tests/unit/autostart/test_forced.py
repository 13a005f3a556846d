"""Start at login under the administrator's force_autostart: turned on, and which disable is
refused (the real xdg and systemd backends on a temporary HOME)."""

from __future__ import annotations

from tests.unit.autostart.fakes import SystemFactory, backend_for
from vms_tray.autostart.forced import disable_refused, ensure_enabled, refusal


def test_ensure_enabled_writes_the_entry_once(make_system: SystemFactory) -> None:
    backend = backend_for("xdg", make_system)
    assert not backend.is_enabled()
    assert ensure_enabled(backend) is True
    assert backend.is_enabled()
    assert ensure_enabled(backend) is False  # already on: nothing rewritten


def test_disabling_the_default_is_refused_and_a_duplicate_may_go(
    make_system: SystemFactory,
) -> None:
    xdg = backend_for("xdg", make_system)
    systemd = backend_for("systemd", make_system)
    assert disable_refused(xdg, xdg)
    assert disable_refused(systemd, xdg)  # the default is off: systemd is all there is
    xdg.enable()
    assert not disable_refused(systemd, xdg)  # a second entry: removing it keeps one


def test_the_refusal_names_the_policy_file() -> None:
    line = refusal("/etc/xdg/vms-tray/policy.toml")
    assert "force_autostart in /etc/xdg/vms-tray/policy.toml" in line
    assert "\n" not in line
