"""Each format's quoting of the interpreter path, checked by round trips and by known answers."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vms_tray.autostart.launch import (
    RUN_ARGS,
    desktop_exec,
    desktop_string,
    desktop_unstring,
    launch_command,
    parse_desktop_exec,
    parse_systemd_exec,
    parse_windows_cmdline,
    systemd_exec,
    windows_cmdline,
)

# Printable, no line breaks: the characters a real install path can contain, plus every reserved
# one of the formats (quotes, backslash, $, %, `, ;, spaces).
ARG = st.text(
    alphabet=st.sampled_from(string.ascii_letters + string.digits + " \t\"'\\$%`;&|<>~*?#()=-_./é"),
    min_size=1,
    max_size=30,
)


def test_desktop_exec_known_answers() -> None:
    assert desktop_exec(["/usr/bin/python3", "-m", "vms_tray", "run"]) == (
        "/usr/bin/python3 -m vms_tray run"
    )
    assert desktop_exec(["/home/a b/py"]) == '"/home/a b/py"'
    # Desktop Entry spec: ", `, $ and \ are escaped inside quotes; % is doubled everywhere.
    assert desktop_exec(['/x/$y"`\\z']) == '"/x/\\$y\\"\\`\\\\z"'
    assert desktop_exec(["/100%/py"]) == "/100%%/py"
    # ... and the string escaping of the file format doubles the backslashes once more.
    assert desktop_string(desktop_exec(["/a\\b c"])) == '"/a\\\\\\\\b c"'


@given(st.lists(ARG, min_size=1, max_size=5))
def test_desktop_exec_round_trip(argv: list[str]) -> None:
    in_file = desktop_string(desktop_exec(argv))
    assert "\n" not in in_file
    assert parse_desktop_exec(desktop_unstring(in_file)) == argv


def test_desktop_exec_refuses_line_breaks() -> None:
    with pytest.raises(ValueError):
        desktop_exec(["/a\nb"])


def test_systemd_exec_known_answers() -> None:
    assert systemd_exec(["/usr/bin/python3", "-m", "vms_tray", "run"]) == (
        "/usr/bin/python3 -m vms_tray run"
    )
    # %-specifiers and $-variables must not be expanded; systemd expands no variable in the
    # program path itself (systemd-analyze verify confirms: "$$" there stays two dollars).
    assert systemd_exec(["/opt/my venv/100%/$HOME/py", "$x"]) == '"/opt/my venv/100%%/$HOME/py" $$x'
    with pytest.raises(ValueError):
        systemd_exec(["python3", "run"])


@given(st.lists(ARG, min_size=0, max_size=4))
def test_systemd_exec_round_trip(rest: list[str]) -> None:
    argv = ["/opt/$venv 100%/bin/python", *rest]
    assert parse_systemd_exec(systemd_exec(argv)) == argv


@given(st.lists(ARG, min_size=1, max_size=5))
def test_windows_cmdline_round_trip(argv: list[str]) -> None:
    assert parse_windows_cmdline(windows_cmdline(argv)) == argv


def test_windows_cmdline_known_answer() -> None:
    exe = r"C:\Users\Ann Lee\pipx\venvs\vms-tray\Scripts\pythonw.exe"
    assert windows_cmdline([exe, *RUN_ARGS]) == f'"{exe}" -m vms_tray run'


def test_launch_command_is_the_real_interpreter_unresolved(tmp_path: Path) -> None:
    venv_python = tmp_path / "venv/bin/python"
    venv_python.parent.mkdir(parents=True)
    venv_python.symlink_to("/usr/bin/python3")
    # The venv's symlink, not its target: the target's site-packages lack vms_tray.
    assert launch_command(str(venv_python), "linux", gui=True) == [
        str(venv_python),
        "-m",
        "vms_tray",
        "run",
    ]


def test_launch_command_prefers_pythonw_for_gui_on_windows(tmp_path: Path) -> None:
    scripts = tmp_path / "Scripts"
    scripts.mkdir()
    (scripts / "python.exe").write_bytes(b"")
    python = str(scripts / "python.exe")
    assert launch_command(python, "win32", gui=False)[0] == python
    assert launch_command(python, "win32", gui=True)[0] == python  # no pythonw.exe yet
    (scripts / "pythonw.exe").write_bytes(b"")
    assert launch_command(python, "win32", gui=True)[0] == str(scripts / "pythonw.exe")


def test_launch_command_of_a_bundled_app() -> None:
    app = "/Applications/vms-tray.app/Contents/MacOS/vms-tray"
    assert launch_command(app, "darwin", gui=True, frozen=True) == [app, "run"]
