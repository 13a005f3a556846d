"""The in-process server handle (real uvicorn + TLS on loopback)."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import httpx

from vms_tray.refserver.config import ServerConfig
from vms_tray.refserver.runner import KEEPALIVE_TIMEOUT, ServerHandle, bind
from vms_tray.session.policies import Timing
from vms_tray.testing.clock import FakeServerClock


def test_listening_socket_is_explicit_tcp_so_asyncio_sets_nodelay() -> None:
    # asyncio enables TCP_NODELAY on accepted sockets only for proto == IPPROTO_TCP; without it
    # every response waited ~40 ms for Nagle and delayed ACK.
    sock = bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        client = socket.create_connection(sock.getsockname(), timeout=5)
        sock.setblocking(True)
        accepted, _ = sock.accept()
        assert accepted.proto == socket.IPPROTO_TCP
        accepted.close()
        client.close()
    finally:
        sock.close()


def test_handle_serves_tls_with_an_injected_clock(tmp_path: Path) -> None:
    clock = FakeServerClock()
    with ServerHandle.start(tmp_path, config=ServerConfig(name="x"), clock=clock) as handle:
        assert handle.url.startswith("https://127.0.0.1:") and handle.running
        context = ssl.create_default_context(cadata=handle.cert_pem.decode())
        with httpx.Client(base_url=handle.url, verify=context) as http:
            clock.advance(60)
            assert http.get("/api/v1/server").json()["server_time"] == "2027-01-15T08:01:00Z"
    assert not handle.running


def test_an_idle_connection_outlives_a_poll_interval(tmp_path: Path) -> None:
    # At 30 s every 60 s poll of a signed-in daemon opened a new TCP connection and TLS handshake.
    assert Timing().poll_interval * 1.5 < KEEPALIVE_TIMEOUT
    with ServerHandle.start(tmp_path, config=ServerConfig(name="x")) as handle:
        assert handle._server.config.timeout_keep_alive == KEEPALIVE_TIMEOUT


def test_the_open_files_limit_is_raised_for_the_streams() -> None:
    import resource
    import subprocess
    import sys

    # In a child: the limit is the process's own. It starts at 1024 soft, as many shells set it.
    code = (
        "import resource\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))\n"
        "from vms_tray.refserver.runner import raise_open_files_limit\n"
        "print(raise_open_files_limit(4096), resource.getrlimit(resource.RLIMIT_NOFILE)[0])\n"
    )
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    expected = 4096 if hard == resource.RLIM_INFINITY else min(4096, hard)
    assert out.stdout.split() == [str(expected), str(expected)]
