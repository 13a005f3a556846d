"""A raw TLS server on 127.0.0.1 that records every byte a client sends after the handshake.

It proves what httpx cannot show from the client side: that a refused certificate leaves the
server with a completed handshake and *nothing else*. It can also answer HTTP/1.1 requests with a
fixed JSON body on kept-alive connections.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import trustme

from tests.support.components import wait_until


@dataclass
class Recorded:
    handshake_done: bool = False
    received: bytearray = field(default_factory=bytearray)
    closed: bool = False
    requests: int = 0


class TLSRecorder:
    def __init__(self, cert: trustme.LeafCert, answer: Any = None) -> None:
        self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(self._ctx)
        self._answer = json.dumps(answer if answer is not None else {}).encode()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self.connections: list[Recorded] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def __enter__(self) -> TLSRecorder:
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in list(self._threads):
            t.join(5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                raw, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            rec = Recorded()
            with self._lock:
                self.connections.append(rec)
            t = threading.Thread(target=self._serve, args=(raw, rec), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, raw: socket.socket, rec: Recorded) -> None:
        raw.settimeout(5)
        try:
            try:
                tls = self._ctx.wrap_socket(raw, server_side=True)
            except (OSError, ssl.SSLError):
                return
            rec.handshake_done = True
            tls.settimeout(0.2)
            with tls:
                pending = bytearray()
                while not self._stop.is_set():
                    try:
                        data = tls.recv(65536)
                    except TimeoutError:
                        continue
                    except (OSError, ssl.SSLError):
                        return
                    if not data:
                        return
                    rec.received += data
                    pending += data
                    while b"\r\n\r\n" in pending:
                        head, _, rest = bytes(pending).partition(b"\r\n\r\n")
                        length = 0
                        for line in head.split(b"\r\n")[1:]:
                            name, _, value = line.partition(b":")
                            if name.strip().lower() == b"content-length":
                                length = int(value.strip())
                        if len(rest) < length:
                            break
                        pending = bytearray(rest[length:])
                        rec.requests += 1
                        tls.sendall(
                            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            + f"Content-Length: {len(self._answer)}\r\n\r\n".encode()
                            + self._answer
                        )
        finally:
            rec.closed = True
            with contextlib.suppress(OSError):
                raw.close()

    def wait_all_closed(self, count: int) -> list[Recorded]:
        """Wait until ``count`` connections were made and all of them ended."""
        wait_until(
            lambda: len(self.connections) >= count and all(c.closed for c in self.connections),
            10,
            f"{count} connection(s) to end",
        )
        return list(self.connections)


# A protocol v1 GET /server answer, for clients that ask before anything else.
SERVER_JSON = {
    "name": "recorder",
    "product": "raw-tls",
    "version": "1",
    "api_version": "1.0",
    "captcha": "never",
    "idle_timeout": None,
    "server_time": "2026-11-27T06:00:00Z",
}


def der_of(cert: trustme.LeafCert) -> bytes:
    return ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())


@contextlib.contextmanager
def recorder(cert: trustme.LeafCert, answer: Any = None) -> Iterator[TLSRecorder]:
    with TLSRecorder(cert, answer) as r:
        yield r
