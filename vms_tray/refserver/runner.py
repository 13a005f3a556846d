"""Running the reference server: in a background thread (tests, demo) or as the CLI's foreground.

``ServerHandle.start`` binds the socket itself (``port=0`` picks a free one), so the URL is known
before the first request; uvicorn then serves on that socket with TLS in a daemon thread.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import h11
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from vms_tray.refserver.app import DEFAULT_MAX_PENDING_SIGN_INS, build_app
from vms_tray.refserver.captcha import CaptchaStore
from vms_tray.refserver.clock import ServerClock, SystemServerClock
from vms_tray.refserver.config import ServerConfig
from vms_tray.refserver.service import Service
from vms_tray.refserver.storage import Store
from vms_tray.refserver.tls import ensure_self_signed, fingerprint_pem

log = logging.getLogger(__name__)

DB_NAME = "server.sqlite3"
# Seconds a client has to send a request's line and headers, counted from the end of the TLS
# handshake (asyncio bounds that at 60 s) or, on a kept-alive connection, from the request's
# first byte. uvicorn has no such limit: its keep-alive timer stops at the first byte, so a
# client trickling a header (slowloris) held a connection for ever.
HEADER_TIMEOUT = 10.0
# Seconds an idle kept-alive connection stays open: longer than the daemon's poll interval
# (60 s by default, no jitter), so a signed-in client's one connection and TLS session serve
# every poll. At 30 s each poll opened a new TCP connection and TLS handshake (issue 13, seen in
# a real daemon's --debug log). The client keeps its connections for 600 s (net/http.py).
KEEPALIVE_TIMEOUT = 120.0
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


# Open files the server asks for (events streams, one socket each, and a few of its own).
OPEN_FILES = 8192


def open_store(data_dir: Path) -> Store:
    data_dir.mkdir(parents=True, exist_ok=True)
    return Store(data_dir / DB_NAME)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only when the
    # protocol is explicit, and without it every response waits ~40 ms on Nagle + delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    # Lets a restarted server take the same port while old connections sit in TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def url_for(host: str, port: int) -> str:
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"


class HeaderTimeoutH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request head (``header_timeout``)."""

    header_timeout = HEADER_TIMEOUT

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm_head_timer()

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._arm_head_timer()  # a new request begins (its keep-alive wait is over)
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm_head_timer()  # the head is in

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            log.info("closing a connection that sent no complete request head in time")
            self.transport.close()


@dataclass(frozen=True)
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 0
    tls_cert: Path | None = None
    tls_key: Path | None = None
    maintenance_file: Path | None = None
    captcha_log: Path | None = None
    max_pending_sign_ins: int = DEFAULT_MAX_PENDING_SIGN_INS
    access_log: bool = False
    header_timeout: float = HEADER_TIMEOUT


def raise_open_files_limit(want: int = OPEN_FILES) -> int:
    """Each events stream holds a socket: the common soft limit of 1024 descriptors would stop
    the server at about a thousand clients. Raise the soft limit towards the hard one; the
    limit in force is returned (and logged when it stays low)."""
    try:
        import resource  # POSIX only: Windows has no such limit
    except ImportError:
        return want
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < want:
        log.warning("at most %d open files: about %d clients can keep a stream", soft, soft - 24)
    return int(soft)


def serve_app(
    app: ASGIApp, opts: ServerOptions, cert_path: Path, key_path: Path
) -> tuple[uvicorn.Server, threading.Thread, int]:
    """Serve ``app`` over HTTPS from a daemon thread; returns once it accepts connections
    (the server, its thread, the bound port). Shared by every flavour of the server."""
    raise_open_files_limit()
    sock = bind(opts.host, opts.port)
    port = int(sock.getsockname()[1])

    class Protocol(HeaderTimeoutH11):
        header_timeout = opts.header_timeout

    uv_config = uvicorn.Config(
        app,
        http=Protocol,
        ssl_certfile=str(cert_path),
        ssl_keyfile=str(key_path),
        lifespan="off",
        log_config=None,
        access_log=opts.access_log,
        # Requests take milliseconds; idle keep-alive TLS peers must not hold up a stop.
        timeout_graceful_shutdown=2,
        # Longer than a poll interval (uvicorn's default is 5 s): see KEEPALIVE_TIMEOUT.
        timeout_keep_alive=int(KEEPALIVE_TIMEOUT),
        server_header=False,
        proxy_headers=False,
        # A request head (line and headers) larger than this is refused (h11's default,
        # stated here so it is a decision): 400 and the connection closed.
        h11_max_incomplete_event_size=16 * 1024,
    )
    server = uvicorn.Server(uv_config)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # reported to start() or logged; never lost silently
            failure.append(exc)
            log.exception("reference server thread failed")
        finally:
            sock.close()

    thread = threading.Thread(target=run, name=f"refserver:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if failure or not thread.is_alive():
            raise RuntimeError("the reference server failed to start (see the log)")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the reference server did not start in time")
        time.sleep(0.01)
    log.info("reference server listening on %s", url_for(opts.host, port))
    return server, thread, port


class Serving:
    """A server on a background thread (the reference server, the AIPIX simulator): whether it
    runs, ``stop()`` (graceful, then forced) and a context that stops it. Subclasses set
    ``url``, ``fingerprint``, ``_server``, ``_thread`` and ``_store`` when they start."""

    url: str
    fingerprint: str  # of its certificate (what a client pins)
    _server: uvicorn.Server
    _thread: threading.Thread
    _store: Store

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(STOP_TIMEOUT)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(STOP_TIMEOUT)
        self._store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ServerHandle(Serving):
    """A reference server serving HTTPS from a background thread until ``stop()``."""

    def __init__(
        self,
        service: Service,
        server: uvicorn.Server,
        thread: threading.Thread,
        url: str,
        port: int,
        cert_pem_path: Path,
        data_dir: Path,
    ) -> None:
        self.service = service
        self._server = server
        self._thread = thread
        self._store = service.store
        self.url = url
        self.port = port
        self.cert_pem_path = cert_pem_path
        self.cert_pem = cert_pem_path.read_bytes()
        self.fingerprint = fingerprint_pem(self.cert_pem)
        self.data_dir = data_dir

    @classmethod
    def start(
        cls,
        data_dir: Path,
        *,
        config: ServerConfig | None = None,
        clock: ServerClock | None = None,
        options: ServerOptions | None = None,
        store: Store | None = None,
    ) -> ServerHandle:
        opts = options or ServerOptions()
        clock = clock or SystemServerClock()
        if opts.tls_cert and opts.tls_key:
            cert_path, key_path = opts.tls_cert, opts.tls_key
        else:
            cert_path, key_path = ensure_self_signed(data_dir, opts.host)
        store = store or open_store(data_dir)
        service = Service(
            store,
            clock,
            config or ServerConfig(),
            CaptchaStore(clock, answer_log=opts.captcha_log),
        )
        app = build_app(
            service,
            maintenance_file=opts.maintenance_file,
            max_pending_sign_ins=opts.max_pending_sign_ins,
        )
        server, thread, port = serve_app(app, opts, cert_path, key_path)
        return cls(service, server, thread, url_for(opts.host, port), port, cert_path, data_dir)
