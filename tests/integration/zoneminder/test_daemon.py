"""``vms-tray run --headless`` keeps a ZoneMinder session alive across a forced token expiry.

Everything is real: the CLI and the daemon run as subprocesses of the entry point, the password is
in gnome-keyring (Secret Service on a private D-Bus session, so the daemon process can read what
``password set`` stored), the server is the ZoneMinder set up by scripts/setup-zoneminder.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import components
from tests.support.zoneminder import ZoneMinderSetup

pytestmark = [pytest.mark.zoneminder, pytest.mark.integration, pytest.mark.keyring]

SIGNED_IN_LINE = "signed in to ZoneMinder zm as"
POLLED_LINE = "POST host/getVersion.json -> 200"  # the HTTP adapter logs it at --debug


class Profile:
    def __init__(self, root: Path, keyring_env: dict[str, str]) -> None:
        self.root = root
        self.env = {
            **keyring_env,
            "VMS_TRAY_PROFILE": str(root),
            # Poll often so that the daemon notices the revocation within the test's patience.
            "VMS_TRAY_POLL_INTERVAL": "0.5",
            "VMS_TRAY_BACKOFF_INITIAL": "0.2",
            "VMS_TRAY_HEARTBEAT_INTERVAL": "0.5",
        }
        for name in ("DISPLAY", "WAYLAND_DISPLAY", "PYTHON_KEYRING_BACKEND"):
            self.env.pop(name, None)

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "vms_tray", *args],
            env=self.env,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def cli(self, *args: str, stdin: str | None = None) -> str:
        out = self.run(*args, stdin=stdin)
        assert out.returncode == 0, (args, out.stdout, out.stderr)
        return out.stdout

    def status(self) -> dict[str, Any]:
        out = subprocess.run(
            [sys.executable, "-m", "vms_tray", "status", "--json"],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if out.returncode != 0:
            return {}
        result: dict[str, Any] = json.loads(out.stdout)
        return result

    def log_text(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.root.glob("log/*.log*")))


def state_of(status: dict[str, Any]) -> str | None:
    state = status.get("state")
    if isinstance(state, dict):  # tolerate {"state": {"state": ...}} shapes
        state = state.get("state")
    return state if isinstance(state, str) else None


@contextlib.contextmanager
def headless_daemon(profile: Profile, stderr: Path) -> Iterator[subprocess.Popen[bytes]]:
    with stderr.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vms_tray", "--debug", "run", "--headless"],
            env=profile.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def configured(zm: ZoneMinderSetup, keyring_env: dict[str, str], root: Path) -> Profile:
    """A profile as a user would set it up: the server, its pinned certificate, the password."""
    profile = Profile(root, keyring_env)
    profile.cli("servers", "add", "zm", zm.url, "--login", zm.user, "--kind", "zoneminder")
    profile.cli("servers", "trust", "zm", "--fingerprint", zm.fingerprint)
    profile.cli("password", "set", "zm", stdin=zm.password + "\n")
    return profile


def test_headless_daemon_signs_in_again_after_forced_expiry(
    zm: ZoneMinderSetup, secret_service_env: dict[str, str], tmp_path: Path
) -> None:
    profile = configured(zm, secret_service_env, tmp_path / "profile")
    stderr = tmp_path / "daemon.stderr"
    with headless_daemon(profile, stderr) as daemon:

        def signed_in(times: int) -> bool:
            assert daemon.poll() is None, stderr.read_text()
            return (
                profile.log_text().count(SIGNED_IN_LINE) >= times
                and state_of(profile.status()) == "signed_in"
            )

        components.wait_until(lambda: signed_in(1), 60, "the daemon to sign in to ZoneMinder")
        status = profile.status()
        assert status.get("server") == "zm"
        assert status.get("kind") == "zoneminder"
        assert status.get("can_list_sessions") is False
        # What ZoneMinder cannot do is refused with a reason, not attempted.
        sessions = profile.run("sessions")
        assert sessions.returncode == 1
        assert "does not report sessions" in sessions.stderr

        # Every token issued so far is now refused, as if both had expired.
        zm.revoke_tokens()
        components.wait_until(
            lambda: signed_in(2), 60, "the daemon to sign in again with the stored password"
        )
        # And the new session is good: still signed in a few polls later.
        before = profile.log_text().count(SIGNED_IN_LINE)
        polls = profile.log_text().count(POLLED_LINE)
        components.wait_until(
            lambda: profile.log_text().count(POLLED_LINE) >= polls + 3,
            30,
            "the daemon to poll with its new token",
        )
        assert state_of(profile.status()) == "signed_in"
        assert profile.log_text().count(SIGNED_IN_LINE) == before

        # ZoneMinder's logout frees nothing: sign-out says so instead of promising a free seat.
        assert profile.status().get("sign_out_frees_seat") is False
        out = profile.cli("signout")
        assert "Nothing is freed on the server" in out and "valid until it expires" in out
        assert "seat is free" not in out

    log = profile.log_text() + stderr.read_text(errors="replace")
    # Even at --debug, no password and no JWT (they all start with base64 of '{"') is written.
    assert zm.password not in log
    assert "eyJ" not in log
    assert "token=" not in log


def test_headless_daemon_says_when_the_stored_password_no_longer_works(
    zm: ZoneMinderSetup, secret_service_env: dict[str, str], tmp_path: Path
) -> None:
    profile = configured(zm, secret_service_env, tmp_path / "profile")
    stderr = tmp_path / "daemon.stderr"
    with headless_daemon(profile, stderr) as daemon:

        def alive() -> bool:
            assert daemon.poll() is None, stderr.read_text()
            return True

        components.wait_until(
            lambda: alive() and state_of(profile.status()) == "signed_in",
            60,
            "the daemon to sign in to ZoneMinder",
        )
        with zm.password_changed():
            zm.revoke_tokens()
            components.wait_until(
                lambda: alive() and "password no longer works" in stderr.read_text(),
                60,
                "the headless notice about the password",
            )
            state = state_of(profile.status())
            notice = next(
                line
                for line in stderr.read_text().splitlines()
                if "password no longer works" in line
            )
        # The client's message already says what to do: said once, not twice.
        assert notice.count("sign in again") == 1, notice
        # Not signed in, and not retrying the wrong password in a loop.
        assert state not in ("signed_in", "signing_in"), state
        assert profile.log_text().count(SIGNED_IN_LINE) == 1
    assert zm.password not in profile.log_text() + stderr.read_text()
