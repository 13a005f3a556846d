"""Quitting and starting the real daemon process: how long SIGTERM takes when the server has
frozen mid-request, and what start-up runs besides vms-tray itself."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.daemon.test_daemon_live import (  # noqa: F401 - fixture
    DaemonProcess,
    configure,
    daemon_factory,
)
from tests.support.components import wait_until
from tests.support.refserver import RefServer, refserver_factory  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery 42"


def unread_bytes_at(port: int) -> int:
    """Bytes that arrived on loopback TCP sockets bound to ``port`` and were not read yet."""
    total = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, queues = fields[1], fields[4]
            if int(local.rsplit(":", 1)[1], 16) == port:
                total += int(queues.split(":")[1], 16)
    return total


def test_sigterm_with_a_frozen_server_exits_within_2_s(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    daemon_factory: Callable[[], DaemonProcess],  # noqa: F811
) -> None:
    """The server stops answering (SIGSTOP) while the worker waits for its answer: the quit
    must still be over in 2 s, a best-effort sign-out included."""
    server = refserver_factory(users={"anna": PASSWORD})
    configure(("office", server))
    d = daemon_factory().start()
    d.sign_in()
    assert server.proc is not None and d.proc is not None
    server.proc.send_signal(signal.SIGSTOP)
    try:
        # A poll (every 0.5 s here) now sits unread in the frozen server's socket.
        wait_until(lambda: unread_bytes_at(server.port) > 0, 10, "a request to the frozen server")
        d.proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        assert d.wait_exit() == 0
        took = time.monotonic() - started
    finally:
        server.proc.send_signal(signal.SIGCONT)
    print(f"SIGTERM with a frozen server: {took:.2f} s")
    assert took <= 2.0, f"SIGTERM took {took:.2f} s"


def test_start_up_runs_no_compiler_or_linker(tmp_path: Path) -> None:
    """keyring's backend discovery imported its macOS backend, whose ctypes.util.find_library
    ran ldconfig, gcc and ld at every start on Linux. Stand-ins first on PATH say whether
    anything still calls them."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    calls = tmp_path / "calls"
    for tool in ("gcc", "cc", "ld", "objdump", "ldconfig"):
        script = fake_bin / tool
        script.write_text(f'#!/bin/sh\necho "{tool} $*" >> {calls}\nexit 1\n')
        script.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    for name in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND"):
        env.pop(name, None)  # the real keyring choice: every backend is looked at
    d = DaemonProcess(tmp_path, env).start()
    try:
        d.ok("status")  # started and answering: the keyring was chosen by now
    finally:
        assert d.proc is not None
        d.proc.send_signal(signal.SIGTERM)
        assert d.wait_exit() == 0
    assert not calls.exists(), calls.read_text()
