"""A real HTTP proxy for tests: tinyproxy (Debian package ``tinyproxy``) on loopback."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.components import require_binary, terminate, wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class TinyProxy:
    """One tinyproxy process. ``user``/``password``: Basic proxy authentication is required.
    ``connect_ports``: the only ports CONNECT may reach (empty: any)."""

    def __init__(
        self,
        workdir: Path,
        *,
        user: str | None = None,
        password: str | None = None,
        connect_ports: tuple[int, ...] = (),
    ) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / "tinyproxy.log"
        self.port = free_port()
        lines = [
            f"Port {self.port}",
            "Listen 127.0.0.1",
            "Timeout 30",
            f'LogFile "{self.log_path}"',
            "LogLevel Info",
            f'PidFile "{workdir / "tinyproxy.pid"}"',
            "MaxClients 20",
            "Allow 127.0.0.1",
            "DisableViaHeader Yes",
        ]
        if user is not None:
            lines.append(f"BasicAuth {user} {password}")
        lines += [f"ConnectPort {p}" for p in connect_ports]
        self.conf = workdir / "tinyproxy.conf"
        self.conf.write_text("\n".join(lines) + "\n", encoding="ascii")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> TinyProxy:
        require_binary("tinyproxy")
        tinyproxy = shutil.which("tinyproxy")
        assert tinyproxy is not None
        self.proc = subprocess.Popen(
            [tinyproxy, "-d", "-c", str(self.conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._listening, 10, "tinyproxy to listen")
        return self

    def _listening(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"tinyproxy exited {self.proc.returncode}:\n{self.log()}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.proc is not None:
            terminate(self.proc)

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def tunnels(self) -> int:
        """CONNECT tunnels the proxy opened to a server so far."""
        return len(re.findall(r"Established connection to host", self.log()))


@pytest.fixture
def tinyproxy(tmp_path: Path) -> Iterator[TinyProxy]:
    proxy = TinyProxy(tmp_path / "proxy").start()
    yield proxy
    proxy.stop()
