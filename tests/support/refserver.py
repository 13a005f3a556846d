"""The reference server as a real separate process, for tests that talk to it over TLS.

    server = RefServer.start(tmp_path, users={"anna": "pw"}, max_sessions=2)
    with server.client() as http:          # httpx.Client trusting exactly this server's cert
        http.get("/api/v1/server")
    server.advance_clock(901)              # the server's clock jumps (idle expiry without sleeping)
    server.captcha_answer(captcha_id)      # what the captcha image says
    server.set_busy(30) / clear_busy()     # every API call answers 503 server-busy meanwhile
    server.restart()                       # same data dir and port: sessions survive
    server.restart_with_new_certificate()  # same port, another certificate (restore_certificate)
    server.kill()                          # SIGKILL, no goodbye
    server.stop()

Or the fixtures: ``refserver_factory(**options)`` (all stopped at teardown) and ``refserver``
(one default server). Every wait is bounded; a server that fails to start raises with its stderr.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import ssl
import subprocess
import sys
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0

# Servers still running when the test process exits (a crash, a forgotten stop) are killed.
_live: weakref.WeakSet[RefServer] = weakref.WeakSet()


@atexit.register
def _kill_leftovers() -> None:
    for server in list(_live):
        server.kill()


class RefServerError(RuntimeError):
    pass


def logged_captcha_answer(log: Path, captcha_id: str) -> str:
    """What captcha ``captcha_id`` says, read from the server's answer log (``--captcha-log``,
    ``CaptchaStore(answer_log=...)``: one "ID ANSWER" line per captcha issued)."""
    if log.exists():
        for line in log.read_text(encoding="utf-8").splitlines():
            cid, _, answer = line.partition(" ")
            if cid == captcha_id:
                return answer
    raise KeyError(f"no captcha {captcha_id!r} was issued by this server")


class RefServer:
    def __init__(self, data_dir: Path, args: list[str], port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self._args = args
        self.clock_file = data_dir / "clock-offset"
        self.captcha_log = data_dir / "captcha-answers"
        self.maintenance_file = data_dir / "maintenance"
        self.stdout_path = data_dir / "server.stdout"
        self.stderr_path = data_dir / "server.stderr"
        self.cert_pem_path = data_dir / "server.crt"
        self.url = ""
        self.fingerprint = ""
        self.offset = 0.0
        self.proc: subprocess.Popen[bytes] | None = None
        self._stderr_from = 0  # where the running process's stderr begins in stderr_path

    # --- lifecycle ------------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        tmp_path: Path,
        *,
        captcha: str = "never",
        max_sessions: int = 2,
        idle_timeout: float = 900,
        access_ttl: float = 300,
        refresh_ttl: float = 43200,
        users: Mapping[str, str] | None = None,
        user_limits: Mapping[str, int] | None = None,
        name: str = "refserver under test",
        port: int = 0,
        extra_args: Sequence[str] = (),
        fast_kdf: bool = True,
    ) -> RefServer:
        """Start ``python -m vms_tray server run`` on a free port with a fresh data directory.

        ``users`` maps login to password (default ``{"anna": "pw"}``); ``user_limits`` sets
        per-account session limits. ``fast_kdf`` hashes their passwords with cheap scrypt
        parameters (the server verifies with the parameters stored in each hash).
        """
        from vms_tray.refserver.runner import open_store
        from vms_tray.refserver.tokens import DEFAULT_KDF, KdfParams, hash_password

        kdf = KdfParams(n=2**10) if fast_kdf else DEFAULT_KDF

        data_dir = tmp_path
        n = 0
        while (data_dir := tmp_path / f"refserver-{n}").exists():
            n += 1
        data_dir.mkdir(parents=True)
        store = open_store(data_dir)
        try:
            for login, password in (users if users is not None else {"anna": "pw"}).items():
                limit = (user_limits or {}).get(login)
                store.add_user(login, hash_password(password, kdf), limit, time.time())
        finally:
            store.close()
        args = [
            "--data", str(data_dir),
            "--captcha", captcha,
            "--max-sessions", str(max_sessions),
            "--idle-timeout", str(idle_timeout),
            "--access-ttl", str(access_ttl),
            "--refresh-ttl", str(refresh_ttl),
            "--name", name,
            "--clock-file", str(data_dir / "clock-offset"),
            "--captcha-log", str(data_dir / "captcha-answers"),
            "--maintenance-file", str(data_dir / "maintenance"),
            *extra_args,
        ]  # fmt: skip
        server = cls(data_dir, args, port)
        server._launch(port)
        return server

    def _launch(self, port: int) -> None:
        cmd = [sys.executable, "-m", "vms_tray", "server", "run", *self._args, "--port", str(port)]
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            self._stderr_from = self.stderr_path.stat().st_size if self.stderr_path.exists() else 0
            with self.stdout_path.open("wb") as out, self.stderr_path.open("ab") as err:
                self.proc = subprocess.Popen(
                    cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=self.data_dir
                )
            _live.add(self)
            try:
                self._await_banner(deadline)
                return
            except RefServerError:
                # The old process's port may still be held for a moment after a restart.
                if port and "cannot listen" in self.stderr() and time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                raise

    def _await_banner(self, deadline: float) -> None:
        assert self.proc is not None
        while time.monotonic() < deadline:
            lines = self.stdout_path.read_text(encoding="utf-8", errors="replace").splitlines()
            if len(lines) >= 2 and lines[1].startswith("certificate sha256 "):
                if not lines[0].startswith("listening https://"):
                    self._reap()
                    raise RefServerError(f"unexpected first line from the server: {lines[0]!r}")
                self.url = lines[0].split(" ", 1)[1].strip()
                self.port = int(self.url.rsplit(":", 1)[1])
                self.fingerprint = lines[1].split(" ", 2)[2].strip()
                return
            if self.proc.poll() is not None:
                raise RefServerError(
                    f"the reference server exited with {self.proc.returncode}:\n{self.stderr()}"
                )
            time.sleep(0.05)
        self._reap()
        raise RefServerError(f"the reference server did not start in time:\n{self.stderr()}")

    def _reap(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def stop(self) -> int | None:
        """SIGTERM and wait (graceful; the server exits 0). Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL: the server gets no chance to clean up."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)

    def restart(self, *, same_port: bool = True) -> None:
        """Stop (if running) and start again on the same data directory and port."""
        old_fingerprint = self.fingerprint
        self.stop()
        self._launch(self.port if same_port else 0)
        assert self.fingerprint == old_fingerprint, "restart must keep the certificate"

    def restart_with_new_certificate(self) -> str:
        """Stop, set the certificate and its key aside, and start again on the same data and
        port with a new self-signed certificate: a replaced certificate, or an impostor at the
        server's address. Returns the fingerprint set aside; ``restore_certificate`` brings
        that certificate back."""
        old_fingerprint = self.fingerprint
        self.stop()
        for name in ("server.crt", "server.key"):
            os.replace(self.data_dir / name, self.data_dir / f"{name}.set-aside")
        self._launch(self.port)
        assert self.fingerprint != old_fingerprint
        return old_fingerprint

    def restore_certificate(self) -> None:
        """Stop and start again with the certificate ``restart_with_new_certificate`` set aside."""
        self.stop()
        for name in ("server.crt", "server.key"):
            os.replace(self.data_dir / f"{name}.set-aside", self.data_dir / name)
        self._launch(self.port)

    # --- test controls --------------------------------------------------------------------------

    def advance_clock(self, seconds: float) -> None:
        """Move the server's clock forward (cumulative); it takes effect on the next request."""
        self.offset += seconds
        tmp = self.clock_file.with_suffix(".tmp")
        tmp.write_text(repr(self.offset), encoding="utf-8")
        os.replace(tmp, self.clock_file)

    def captcha_answer(self, captcha_id: str) -> str:
        return logged_captcha_answer(self.captcha_log, captcha_id)

    def set_busy(self, retry_after: int = 30) -> None:
        """Maintenance mode: API calls answer 503 server-busy with this Retry-After."""
        self.maintenance_file.write_text(str(retry_after), encoding="utf-8")

    def clear_busy(self) -> None:
        self.maintenance_file.unlink(missing_ok=True)

    # --- talking to it --------------------------------------------------------------------------

    @property
    def cert_pem(self) -> str:
        return self.cert_pem_path.read_text(encoding="ascii")

    def ssl_context(self) -> ssl.SSLContext:
        """Trusts exactly this server's certificate (it names 127.0.0.1, ::1 and localhost)."""
        return ssl.create_default_context(cadata=self.cert_pem)

    def client(self, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("timeout", 10.0)
        return httpx.Client(base_url=self.url, verify=self.ssl_context(), **kwargs)

    def process_stderr(self) -> str:
        """All the running process wrote to stderr (its access log, with ``--access-log``):
        nothing of the processes before a restart."""
        with self.stderr_path.open("rb") as f:
            f.seek(self._stderr_from)
            return f.read().decode("utf-8", errors="replace")

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(encoding="utf-8", errors="replace")[-4000:]
        except FileNotFoundError:
            return ""


@pytest.fixture
def refserver_factory(tmp_path: Path) -> Iterator[Callable[..., RefServer]]:
    """``refserver_factory(**RefServer.start options)``; every server is stopped at teardown."""
    started: list[RefServer] = []

    def make(**options: Any) -> RefServer:
        server = RefServer.start(tmp_path, **options)
        started.append(server)
        return server

    yield make
    for server in started:
        with contextlib.suppress(Exception):
            server.stop()


@pytest.fixture
def refserver(refserver_factory: Callable[..., RefServer]) -> RefServer:
    """A default reference server: user anna/pw, 2 seats, no captcha."""
    return refserver_factory()
