"""What ``vms-tray --help`` (vms_tray.cli's parser) tells a new user beyond the commands."""

from __future__ import annotations

import pytest

from vms_tray.cli import build_parser, main


def test_help_names_every_command_the_environment_and_the_exit_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("servers", "run", "status", "sessions", "demo", "autostart", "shortcut"):
        assert f"\n    {command} " in out or f"\n    {command}\n" in out, command
    for variable in ("https_proxy", "no_proxy", "VMS_TRAY_PROFILE", "PYSTRAY_BACKEND"):
        assert variable in out
    assert "exit codes: 0 success, 1 failure" in out
    assert out == build_parser().format_help()
