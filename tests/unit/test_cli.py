"""What ``vms-tray --help`` (vms_tray.cli's parser) tells a new user beyond the commands."""

from __future__ import annotations

import argparse

import pytest

from vms_tray.cli import COMMANDS, CommandParser, build_parser, command_modules, main


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


def test_the_command_table_is_what_each_module_registers() -> None:
    for name, commands in COMMANDS.items():
        (module,) = command_modules([commands[0]])
        assert module.__name__ == f"vms_tray.cli.{name}"
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers(parser_class=CommandParser)
        module.register(sub)
        assert tuple(sub.choices) == commands


@pytest.mark.parametrize(
    ("argv", "modules"),
    [
        (["servers", "list"], ["connections"]),
        (["--debug", "status", "--json"], ["daemon"]),
        (["server", "run"], ["refserver"]),
        (["shortcut", "install"], ["autostart"]),
        ([], list(COMMANDS)),
        (["--help"], list(COMMANDS)),
        (["--version"], list(COMMANDS)),
        (["--help", "servers"], list(COMMANDS)),
        (["serverz", "list"], list(COMMANDS)),
    ],
)
def test_a_command_line_that_names_its_command_loads_only_its_module(
    argv: list[str], modules: list[str]
) -> None:
    assert [m.__name__ for m in command_modules(argv)] == [f"vms_tray.cli.{m}" for m in modules]


def test_an_unknown_command_is_told_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["serverz", "list"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'serverz'" in err
    assert "'servers'" in err and "'desktop-launcher'" in err
