"""The in-process server handle and the demo set-up (real uvicorn + TLS on loopback)."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import httpx

from vms_tray.refserver.config import ServerConfig
from vms_tray.refserver.demo import DEMO_LOGIN, new_demo_password, start_demo_server
from vms_tray.refserver.runner import ServerHandle, bind
from vms_tray.refserver.storage import Store
from vms_tray.testing.clock import FakeServerClock

CLIENT = {"device": "laptop", "software": "vms-tray", "version": "0.1.0"}


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


def test_demo_server(tmp_path: Path) -> None:
    demo = start_demo_server(tmp_path, password="demo-pass")
    try:
        assert (demo.login, demo.password) == (DEMO_LOGIN, "demo-pass")
        assert "demo-pass" not in repr(demo)
        context = ssl.create_default_context(cadata=demo.handle.cert_pem.decode())
        with httpx.Client(base_url=demo.url, verify=context) as http:
            info = http.get("/api/v1/server").json()
            assert info["captcha"] == "after-failures"
            body = {"login": "demo", "password": "demo-pass", "client": CLIENT}
            r = http.post("/api/v1/sessions", json=body)
            assert r.status_code == 201 and r.json()["limit"]["max"] == 2
    finally:
        demo.stop()
    # A second start resets the password (only its hash is kept) and keeps the account.
    again = start_demo_server(tmp_path)
    again.stop()
    assert again.password != "demo-pass" and len(again.password) == 14
    store = Store(tmp_path / "server.sqlite3")
    assert [u.login for u in store.list_users()] == ["demo"]
    store.close()


def test_demo_passwords_are_typeable() -> None:
    words = {new_demo_password() for _ in range(50)}
    assert len(words) == 50
    assert all(len(w.split("-")) == 3 and not set(w) & set("0O1lI") for w in words)
