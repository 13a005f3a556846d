"""A daemon killed without signing out (SIGKILL, a crash, power loss) leaves its session in the
keyring; the next start resumes that session instead of taking a second seat (issue 14 item 7).
Real processes: the headless daemon, the reference server on loopback, gnome-keyring."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import pytest

from tests.integration.daemon.test_daemon_live import (
    FAST,
    PASSWORD,
    DaemonProcess,
    configure,
    daemon_factory,  # noqa: F401 - fixture
    other_device,
    server_sessions,
)
from tests.support.components import require
from tests.support.refserver import RefServer, refserver_factory  # noqa: F401 - fixture
from vms_tray.credentials import SESSION_SERVICE

pytestmark = pytest.mark.integration


def test_a_killed_daemon_s_session_is_resumed_not_doubled(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    daemon_factory: Callable[[], DaemonProcess],  # noqa: F811
    secret_service_env: dict[str, str],
) -> None:
    require("gnome-keyring", bool(secret_service_env))
    server = refserver_factory(users={"anna": PASSWORD}, max_sessions=3)
    configure(("office", server))
    env = {**secret_service_env, **FAST, "VMS_TRAY_PROFILE": os.environ["VMS_TRAY_PROFILE"]}
    first = daemon_factory()
    first.env = env
    assert first.cli("password", "set", "office", input=PASSWORD + "\n").returncode == 0
    first.start()
    first.wait_state("signed_in")
    held = first.our_session_id()
    first.kill()  # SIGKILL: no sign-out, no clean-up

    second = daemon_factory()
    second.env = env
    second.start()
    second.wait_state("signed_in")
    assert second.our_session_id() == held  # the same session, resumed
    checker = other_device(server, "CHECK")
    try:
        devices = sorted(s["device"] for s in server_sessions(server, checker))
        assert len(devices) == 2, devices  # ours once, and the checker: no orphaned seat
        assert "resumed the session left on office" in second.log()
        second.ok("quit")
        assert second.wait_exit() == 0
        # A clean quit signs out and forgets the saved session: nothing is left to resume.
        assert [s["device"] for s in server_sessions(server, checker)] == ["CHECK"]
    finally:
        checker.close()
    # Read in a process of its own: the keyring client must see the daemons' environment.
    code = (
        "from vms_tray.credentials import SESSION_SERVICE, open_credentials; "
        f"print(open_credentials().kept(SESSION_SERVICE, {f'anna@{server.url}'!r}))"
    )
    left = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30
    )
    assert left.stdout.strip() == "None", (SESSION_SERVICE, left.stderr)
    second.assert_no_secrets()
