"""Passwords in the real Secret Service (gnome-keyring on a private D-Bus session).

Every command runs as a subprocess, as a user would run it; the keyring is then read back by a
separate process in the same session.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import components
from tests.support.cli import TIMEOUT, run_cli

pytestmark = [pytest.mark.keyring, pytest.mark.integration]

# Non-ASCII, spaces and shell metacharacters: the password must arrive byte for byte.
SECRET = "S3cret pass-𝄞-ü$`'\"\\"


@pytest.fixture
def env(secret_service_env: dict[str, str], isolated_profile: Path) -> dict[str, str]:
    e = {**secret_service_env, "VMS_TRAY_PROFILE": str(isolated_profile)}
    e.pop("PYTHON_KEYRING_BACKEND", None)
    return e


def ok(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    out = run_cli(env, *args, stdin=stdin)
    assert out.returncode == 0, out.stderr
    return out.stdout


def keyring_get(env: dict[str, str], username: str) -> str | None:
    code = (
        "import json, keyring, sys\n"
        "print(type(keyring.get_keyring()).__module__)\n"
        "print(json.dumps(keyring.get_password('vms-tray', sys.argv[1])))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, username],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    backend, value = out.stdout.splitlines()
    assert backend == "keyring.backends.SecretService"
    result: str | None = json.loads(value)
    return result


def listed(env: dict[str, str]) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(ok(env, "servers", "list", "--json"))
    return data


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_password_set_from_stdin_lands_only_in_the_keyring(
    env: dict[str, str], isolated_profile: Path
) -> None:
    ok(env, "servers", "add", "Office", "vms.example.com", "--login", "anna")
    outputs = []
    for debug in ([], ["--debug"]):
        out = run_cli(env, *debug, "password", "set", "office", stdin=SECRET + "\n")
        assert out.returncode == 0, out.stderr
        outputs.append(out.stdout + out.stderr)
    assert keyring_get(env, "office") == SECRET
    assert listed(env)[0]["password_stored"] is True
    assert "yes" in ok(env, "servers", "list").splitlines()[1]
    for text in outputs:
        assert SECRET not in text
    found = files_under(isolated_profile)
    assert isolated_profile / "config" / "servers.toml" in found
    for f in found:
        assert SECRET.encode() not in f.read_bytes(), f


def test_only_one_trailing_newline_is_dropped_and_empty_is_refused(env: dict[str, str]) -> None:
    ok(env, "servers", "add", "Newline", "vms.example.com", "--login", "anna")
    ok(env, "password", "set", "Newline", stdin="pw\n\n")
    assert keyring_get(env, "newline") == "pw\n"
    ok(env, "password", "set", "Newline", stdin="pw2\r\n")
    assert keyring_get(env, "newline") == "pw2"
    for empty in ("", "\n"):
        out = run_cli(env, "password", "set", "Newline", stdin=empty)
        assert out.returncode == 1
        assert "empty" in out.stderr
    assert keyring_get(env, "newline") == "pw2"


def test_password_set_for_an_unknown_server_fails(env: dict[str, str]) -> None:
    out = run_cli(env, "password", "set", "Nowhere", stdin=SECRET)
    assert out.returncode == 1
    assert "no server named 'Nowhere'" in out.stderr
    assert SECRET not in out.stderr
    assert keyring_get(env, "nowhere") is None


def test_rename_moves_and_remove_forgets_the_password(env: dict[str, str]) -> None:
    ok(env, "servers", "add", "Branch", "branch.example.com", "--login", "anna")
    ok(env, "servers", "add", "Depot", "depot.example.com", "--login", "anna")
    ok(env, "password", "set", "Depot", stdin=SECRET)
    ok(env, "servers", "edit", "Depot", "--name", "Warehouse")
    assert keyring_get(env, "depot") is None
    assert keyring_get(env, "warehouse") == SECRET
    assert "and its stored password" in ok(env, "servers", "remove", "warehouse")
    assert keyring_get(env, "warehouse") is None
    # The default cannot be removed: its password must survive the refusal.
    ok(env, "password", "set", "Branch", stdin=SECRET)
    ok(env, "servers", "add", "Other", "other.example.com", "--login", "anna")
    assert run_cli(env, "servers", "remove", "Branch").returncode == 1
    assert keyring_get(env, "branch") == SECRET


def test_password_forget(env: dict[str, str]) -> None:
    ok(env, "servers", "add", "Kiosk", "kiosk.example.com", "--login", "anna")
    ok(env, "password", "set", "Kiosk", stdin=SECRET)
    assert "Forgot the password for Kiosk" in ok(env, "password", "forget", "KIOSK")
    assert keyring_get(env, "kiosk") is None
    assert "No password was stored" in ok(env, "password", "forget", "Kiosk")
    assert listed(env)[0]["password_stored"] is False


def _converse(env: dict[str, str], args: list[str], answers: list[str]) -> tuple[int, str]:
    """Run the CLI on a new pseudo-terminal (its controlling tty), answering each prompt."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execve(sys.executable, [sys.executable, "-m", "vms_tray", *args], env)  # noqa: S606
    seen = b""
    deadline = time.monotonic() + TIMEOUT
    pending = list(answers)
    answered = 0  # how much of the screen the answers so far replied to
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if pending and seen[answered:].rstrip().endswith(b":"):
                os.write(fd, (pending.pop(0) + "\n").encode())
                answered = len(seen)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")


def test_password_set_on_a_terminal_asks_twice_without_echo(env: dict[str, str]) -> None:
    ok(env, "servers", "add", "Desk", "desk.example.com", "--login", "anna")
    code, screen = _converse(env, ["password", "set", "Desk"], [SECRET, SECRET])
    assert code == 0, screen
    assert "Password for anna on Desk:" in screen
    assert "Again, to confirm:" in screen
    assert SECRET not in screen
    assert keyring_get(env, "desk") == SECRET

    code, screen = _converse(env, ["password", "set", "Desk"], ["one-thing", "another"])
    assert code == 1
    assert "differ" in screen
    assert keyring_get(env, "desk") == SECRET


def test_without_a_secure_keyring_password_set_refuses_clearly(
    isolated_profile: Path,
) -> None:
    env = {
        **os.environ,
        "VMS_TRAY_PROFILE": str(isolated_profile),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    ok(env, "servers", "add", "Office", "vms.example.com", "--login", "anna")
    out = run_cli(env, "password", "set", "Office", stdin=SECRET)
    assert out.returncode == 1
    assert "no secure keyring" in out.stderr
    assert out.stderr.count("\n") == 1
    assert SECRET not in out.stdout + out.stderr


@pytest.fixture
def unusable_keyring_env(tmp_path: Path, isolated_profile: Path) -> Iterator[dict[str, str]]:
    """A real gnome-keyring never unlocked, with no prompter to ask: every access fails."""
    components.require_binary("gnome-keyring-daemon", "dbus-daemon", "dbus-send")
    home, runtime = tmp_path / "home", tmp_path / "runtime"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    base = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime)}
    for var in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY", "PYTHON_KEYRING_BACKEND"):
        base.pop(var, None)
    with components.dbus_session(base, tmp_path) as session:
        env = {**session.env, "VMS_TRAY_PROFILE": str(isolated_profile)}
        daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--components=secrets"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        try:

            def owned() -> bool:
                out = subprocess.run(
                    ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                     "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
                     "string:org.freedesktop.secrets"],
                    env=env, capture_output=True, text=True, timeout=5, check=False,
                )  # fmt: skip
                return "boolean true" in out.stdout

            components.wait_until(owned, 15, "gnome-keyring to own org.freedesktop.secrets")
            yield env
        finally:
            daemon.terminate()
            daemon.wait(timeout=10)


def test_a_keyring_that_cannot_be_opened_gives_one_actionable_line(
    unusable_keyring_env: dict[str, str],
) -> None:
    env = unusable_keyring_env
    ok(env, "servers", "add", "Office", "vms.example.com", "--login", "anna")
    out = run_cli(env, "password", "set", "Office", stdin=SECRET)
    assert out.returncode == 1
    assert out.stderr.startswith("vms-tray: the system keyring")
    assert "unlocked" in out.stderr and "try again" in out.stderr
    assert out.stderr.count("\n") == 1
    assert SECRET not in out.stdout + out.stderr
    # Listing still works: whether a password is stored is just unknown.
    assert listed(env)[0]["password_stored"] is None
