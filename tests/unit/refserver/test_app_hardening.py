"""Hostile HTTP at the reference server (issue 14 items 5 and 9): content types, nesting, framing,
slow request heads. A real uvicorn on loopback with TLS and a fake clock, as in test_app."""

from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.unit.refserver.conftest import FAST_KDF
from vms_tray.refserver.config import ServerConfig
from vms_tray.refserver.problems import PROBLEM_BASE
from vms_tray.refserver.runner import ServerHandle, ServerOptions
from vms_tray.testing.clock import FakeServerClock

# Issue 14's attacks: also selected by -m security with tests/security/ (see SECURITY.md).
pytestmark = pytest.mark.security

CLIENT = {"device": "laptop", "software": "vms-tray", "version": "0.1.0"}
SIGN_IN = {"login": "anna", "password": "pw", "client": CLIENT}
PROBLEM = "application/problem+json"
# Bounds for waiting on the server (never a sleep): a header timeout of HEAD_TIMEOUT must have
# closed a connection well within WAIT.
HEAD_TIMEOUT = 0.5
WAIT = 8.0


@pytest.fixture
def server(clock: FakeServerClock, tmp_path: Path) -> Iterator[ServerHandle]:
    handle = ServerHandle.start(
        tmp_path / "server",
        config=replace(ServerConfig(kdf=FAST_KDF), max_sessions=None),
        clock=clock,
        options=ServerOptions(header_timeout=HEAD_TIMEOUT),
    )
    handle.service.add_user("anna", "pw")
    yield handle
    handle.stop()


@pytest.fixture
def http(server: ServerHandle) -> Iterator[httpx.Client]:
    context = ssl.create_default_context(cadata=server.cert_pem.decode("ascii"))
    with httpx.Client(base_url=server.url, verify=context, timeout=10) as client:
        yield client


def assert_problem(r: httpx.Response, name: str, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = dict(r.json())
    assert body["type"] == PROBLEM_BASE + name and body["status"] == status
    return body


class Raw:
    """One TLS connection to the server, spoken to byte by byte."""

    def __init__(self, server: ServerHandle) -> None:
        context = ssl.create_default_context(cadata=server.cert_pem.decode("ascii"))
        plain = socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)
        self.sock = context.wrap_socket(plain, server_hostname="127.0.0.1")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_until_closed(self) -> bytes:
        """Everything the server sends until it closes; fails after WAIT seconds of silence."""
        chunks: list[bytes] = []
        deadline = time.monotonic() + WAIT
        while True:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                raise AssertionError(f"the server kept the connection open for {WAIT} s") from None
            except (ssl.SSLError, ConnectionResetError):
                return b"".join(chunks)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw(server: ServerHandle) -> Iterator[Callable[[], Raw]]:
    opened: list[Raw] = []

    def make() -> Raw:
        opened.append(Raw(server))
        return opened[-1]

    yield make
    for r in opened:
        r.close()


# --- Content-Type (item 9) ------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
def test_a_sign_in_body_that_is_not_declared_json_is_415(
    http: httpx.Client, server: ServerHandle, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    r = http.post("/api/v1/sessions", content=json.dumps(SIGN_IN).encode(), headers=headers)
    assert_problem(r, "unsupported-media-type", 415)
    assert r.headers["cache-control"] == "no-store"
    assert server.service.store.count_active("anna") == 0  # nothing was opened


@pytest.mark.parametrize("path", ["/api/v1/sessions/refresh", "/api/v1/captcha"])
def test_other_bodies_need_json_too(http: httpx.Client, path: str) -> None:
    r = http.post(path, content=b'{"refresh_token": "x"}', headers={"Content-Type": "text/plain"})
    assert_problem(r, "unsupported-media-type", 415)


def test_json_with_parameters_and_an_empty_captcha_request_are_fine(http: httpx.Client) -> None:
    for content_type in ("application/json; charset=utf-8", "Application/JSON"):
        r = http.post(
            "/api/v1/sessions",
            content=json.dumps(SIGN_IN).encode(),
            headers={"Content-Type": content_type},
        )
        assert r.status_code == 201, r.text
    assert http.post("/api/v1/captcha").status_code == 201  # no body, no type needed


def test_the_client_sends_application_json() -> None:
    """vms-tray's own client declares every body it sends (so the 415 never meets it)."""
    from tests.unit.kinds.fakes import FakeV1
    from vms_tray.connections.model import Connection
    from vms_tray.kinds.base import ClientInfo
    from vms_tray.kinds.native import NativeServer
    from vms_tray.session.records import SignedIn

    fake = FakeV1()
    conn = Connection(name="office", url="https://vms.example.com", login="operator")
    with NativeServer(conn, transport=fake.transport(), timeout=5.0) as client:
        outcome = client.sign_in("operator", fake.password, ClientInfo("desk", "vms-tray", "1"))
        assert isinstance(outcome, SignedIn)
        client.refresh(outcome.tokens)
        client.new_captcha()
    with_body = [r for r in fake.requests if r.content]
    assert {r.url.path for r in with_body} >= {
        "/api/v1/sessions",
        "/api/v1/sessions/refresh",
        "/api/v1/captcha",
    }
    assert {r.headers["content-type"] for r in with_body} == {"application/json"}


# --- nesting (item 5) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/sessions", "/api/v1/sessions/refresh", "/api/v1/captcha"]
)
@pytest.mark.parametrize("brackets", ["[", '{"a":'])
def test_deeply_nested_json_is_400_and_the_connection_lives_on(
    http: httpx.Client, path: str, brackets: str
) -> None:
    body = (brackets * (60_000 // len(brackets))).encode()
    assert len(body) <= 64 * 1024
    r = http.post(path, content=body, headers={"Content-Type": "application/json"})
    problem = assert_problem(r, "invalid-request", 400)
    assert "nested" in problem["detail"]
    assert http.get("/api/v1/server").status_code == 200


# --- framing (item 9) -----------------------------------------------------------------------


def test_content_length_with_chunked_transfer_encoding_is_400_and_closes(
    raw: Callable[[], Raw], server: ServerHandle
) -> None:
    body = json.dumps(SIGN_IN).encode()
    conn = raw()
    conn.send(
        b"POST /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\n"
        + f"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n{len(body):x}\r\n".encode()
        + body
        + b"\r\n0\r\n\r\n"
    )
    reply = conn.read_until_closed()  # the connection is closed after the answer
    head, _, payload = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"content-type: application/problem+json" in head.lower()
    assert b"connection: close" in head.lower()
    assert json.loads(payload)["type"] == PROBLEM_BASE + "invalid-request"
    assert server.service.store.count_active("anna") == 0


# --- request-head timeout (item 9) ----------------------------------------------------------


def test_a_connection_that_never_completes_its_head_is_closed(
    raw: Callable[[], Raw],
) -> None:
    silent = raw()  # TLS done, then nothing
    trickle = raw()
    trickle.send(b"POST /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a")
    started = time.monotonic()
    assert silent.read_until_closed() == b""
    assert trickle.read_until_closed() == b""
    assert time.monotonic() - started < WAIT


def test_a_kept_alive_connection_gets_a_fresh_head_deadline_per_request(
    raw: Callable[[], Raw],
) -> None:
    conn = raw()
    conn.send(b"GET /api/v1/server HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    conn.sock.settimeout(WAIT)
    first = conn.sock.recv(65536)
    assert first.startswith(b"HTTP/1.1 200 ")
    conn.send(b"GET /api/v1/server HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a")
    reply = conn.read_until_closed()
    assert b"HTTP/1.1" not in reply  # closed without answering the half-sent request


def test_a_head_still_incomplete_after_16_kib_is_refused(raw: Callable[[], Raw]) -> None:
    conn = raw()
    conn.send(b"GET /api/v1/server HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * (20 * 1024))
    assert conn.read_until_closed().startswith(b"HTTP/1.1 400 ")
