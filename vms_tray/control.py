"""The local control channel between a running daemon and the ``vms-tray`` CLI.

Wire format: one JSON object per line in each direction, one request per connection.

    request:  {"v": 1, "cmd": "status", ...parameters}
    response: {"ok": true, "result": ...}  |  {"ok": false, "error": "one line", "code": "Name"}

The channel is private to the user and never a TCP port: on POSIX a Unix domain socket with mode
0600 in a 0700 directory (``paths.runtime_dir()``); on Windows a named pipe (``PipeTransport``,
through ``multiprocessing.connection``, which speaks the same JSON lines as length-prefixed
messages). Passwords and captcha answers travel in request bodies, never in argv; neither side logs
request bodies.

Both sides check who is at the other end before trusting it. The daemon makes its folder through
an O_NOFOLLOW descriptor (``safefs.private_dir``) and refuses connections from other uids
(SO_PEERCRED). The CLI, before it sends a byte, checks that the folder is a real directory of the
user's that nobody else may enter (not a symlink, owner us, no group/other bits), connects through
that very directory's descriptor, and checks the listener's uid (SO_PEERCRED).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import stat
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from vms_tray import paths, safefs
from vms_tray.errors import ControlError, DaemonNotRunning, VmsTrayError

log = logging.getLogger(__name__)

PROTOCOL_VERSION = 1
MAX_LINE = 4 * 1024 * 1024  # a captcha PNG in base64 fits easily
DRAIN_TIMEOUT = 1.0  # at close: how long answers in progress may take to go out
# AF_UNIX paths are limited to 108 bytes on Linux (104 on macOS); keep a margin.
_MAX_SOCKET_PATH = 100

Request = dict[str, Any]
Response = dict[str, Any]
Handler = Callable[[Request], Response]


class RemoteError(ControlError):
    """The daemon answered with an error; ``code`` names its class."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


# Linux reaches a socket in a folder of any depth through that folder's descriptor.
_PROC_FD = sys.platform.startswith("linux") and os.path.isdir("/proc/self/fd")
# A burst of CLI clients (scripts, a tray and a terminal at once) must not find the queue full.
BACKLOG = max(128, socket.SOMAXCONN)


def _private_tmp() -> Path | None:
    """The temporary folder, when it is the user's own and closed to others (macOS's per-user
    $TMPDIR is; the shared /tmp never is)."""
    tmp = Path(tempfile.gettempdir())
    try:
        st = os.lstat(tmp)
    except OSError:
        return None
    if safefs.dir_problem(st) is None and not st.st_mode & 0o077:
        return tmp
    return None


def socket_path() -> Path:
    """Where the control socket lives (deterministic, so CLI and daemon agree).

    Always in the private run directory: a path over the AF_UNIX limit is reached through the
    directory's descriptor on Linux (``/proc/self/fd/N/control.sock``). Elsewhere the only
    fallback is a folder in a temporary directory that is already the user's alone; never a
    predictable name in a shared one, which another user could create first.
    """
    run = paths.runtime_dir()
    candidate = run / "control.sock"
    if len(os.fsencode(candidate)) <= _MAX_SOCKET_PATH or _PROC_FD:
        return candidate
    tmp = _private_tmp()
    if tmp is not None:
        import hashlib  # here: a fallback off Linux; every CLI command imports this module

        digest = hashlib.sha256(os.fsencode(run)).hexdigest()[:16]
        short = tmp / f"vms-tray-{digest}" / "control.sock"
        if len(os.fsencode(short)) <= _MAX_SOCKET_PATH:
            return short
    return candidate  # too long: _address() says so


def _address(dir_fd: int, path: Path) -> str:
    """The address to bind or connect: through the verified directory's descriptor on Linux,
    so the folder checked is the folder used."""
    if _PROC_FD:
        return f"/proc/self/fd/{dir_fd}/{path.name}"
    if len(os.fsencode(path)) > _MAX_SOCKET_PATH:
        raise ControlError(
            f"the control socket path {path} is too long for this system: set "
            "VMS_TRAY_PROFILE to a shorter folder"
        )
    return str(path)


def _client_dir(directory: Path) -> int:
    """Before the CLI sends anything: the socket's folder must be a real folder of ours that
    nobody else may enter (a folder another user made or linked would let them listen)."""
    refusal = "vms-tray sent nothing there: remove it and start vms-tray again"
    try:
        fd = safefs.open_dir(directory)
    except FileNotFoundError:
        raise DaemonNotRunning() from None
    except safefs.UnsafePath as exc:
        raise ControlError(f"{directory} {exc.problem}; {refusal}") from None
    try:
        st = os.fstat(fd)
        problem = safefs.dir_problem(st)
        if problem is None and st.st_mode & 0o077:
            problem = f"is open to other users (mode {stat.S_IMODE(st.st_mode):04o})"
    except OSError:
        os.close(fd)
        raise
    if problem:
        os.close(fd)
        raise ControlError(f"{directory} {problem}; {refusal}")
    return fd


def pipe_name() -> str:
    import getpass  # here, and hashlib: Windows only; every CLI command imports this module
    import hashlib

    digest = hashlib.sha256(os.fsencode(paths.runtime_dir())).hexdigest()[:16]
    return rf"\\.\pipe\vms-tray-{getpass.getuser()}-{digest}"


class Channel(Protocol):
    def send(self, data: bytes) -> None: ...
    def receive(self) -> bytes: ...
    def close(self) -> None: ...


class Listener(Protocol):
    def accept(self) -> Channel: ...
    def close(self) -> None: ...


class Transport(Protocol):
    def connect(self, timeout: float) -> Channel: ...
    def listen(self) -> Listener: ...


# --- POSIX: Unix domain socket ----------------------------------------------------------------


class _SocketChannel:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._file = sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self._sock.sendall(data.rstrip(b"\n") + b"\n")

    def receive(self) -> bytes:
        line = self._file.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise ControlError("control message too long: the other side is not vms-tray")
        if not line:
            raise ControlError("the other side closed the control connection")
        return line

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()
        with contextlib.suppress(OSError):
            self._sock.close()


def _peer_uid(conn: socket.socket) -> int | None:
    """The uid of the process at the other end (Linux: SO_PEERCRED); None where the kernel does
    not say. Raises OSError when it cannot be asked."""
    peercred = getattr(socket, "SO_PEERCRED", None)
    if peercred is None or not hasattr(os, "getuid"):
        return None
    creds = conn.getsockopt(socket.SOL_SOCKET, peercred, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def _same_user(conn: socket.socket) -> bool:
    """Belt and braces behind the 0700 directory: on Linux, ask the kernel who connected."""
    try:
        uid = _peer_uid(conn)
    except OSError:
        return False
    return uid is None or uid == os.getuid()


class _SocketListener:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            # Created or tightened through its own descriptor: never a chmod through a link.
            self._dir_fd = safefs.private_dir(path.parent, what="the control socket's folder")
        except safefs.UnsafePath as exc:
            raise ControlError(str(exc)) from None
        try:
            # A socket file left by a crashed daemon: the caller holds the instance lock, so no
            # live daemon can own it. (A link there is removed itself, not what it names.)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path.name, dir_fd=self._dir_fd)
            address = _address(self._dir_fd, path)
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            old = os.umask(0o177)
            try:
                self._sock.bind(address)
            finally:
                os.umask(old)
            # bind made the socket (it fails on any existing name): no link can be in its place.
            os.chmod(address, 0o600)
            self._sock.listen(BACKLOG)
        except BaseException:
            with contextlib.suppress(OSError):
                self._sock.close()
            os.close(self._dir_fd)
            raise

    def accept(self) -> Channel:
        while True:
            conn, _ = self._sock.accept()
            if _same_user(conn):
                conn.settimeout(30)
                return _SocketChannel(conn)
            log.warning("refused a control connection from another user")
            conn.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._sock.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path.name, dir_fd=self._dir_fd)
        with contextlib.suppress(OSError):
            os.close(self._dir_fd)


class UnixTransport:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or socket_path()

    def connect(self, timeout: float) -> Channel:
        dir_fd = _client_dir(self.path.parent)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            try:
                sock.connect(_address(dir_fd, self.path))
            except (FileNotFoundError, ConnectionRefusedError):
                raise DaemonNotRunning() from None
            # Who listens? Only then may a password go out.
            try:
                uid = _peer_uid(sock)
            except OSError:
                raise ControlError(
                    f"cannot tell who serves {self.path}; vms-tray sent nothing there"
                ) from None
            if uid is not None and uid != os.getuid():
                raise ControlError(
                    f"{self.path} is served by another user (uid {uid}); vms-tray sent nothing "
                    f"there: remove {self.path.parent} and start vms-tray again"
                )
        except BaseException:
            sock.close()
            raise
        finally:
            os.close(dir_fd)
        return _SocketChannel(sock)

    def listen(self) -> Listener:
        return _SocketListener(self.path)


# --- Windows: named pipe ----------------------------------------------------------------------


class _PipeChannel:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def send(self, data: bytes) -> None:
        self._conn.send_bytes(data)

    def receive(self) -> bytes:
        try:
            data: bytes = self._conn.recv_bytes(MAX_LINE)
        except EOFError:
            raise ControlError("the other side closed the control connection") from None
        return data

    def close(self) -> None:
        self._conn.close()


class _PipeListener:
    def __init__(self, name: str) -> None:
        # here: Windows only, and ~8 ms (measured) every CLI command would pay at start-up
        from multiprocessing.connection import Listener as MpListener

        # A named pipe's default security descriptor grants access to the owner only.
        self._listener = MpListener(address=name, family="AF_PIPE")

    def accept(self) -> Channel:
        return _PipeChannel(self._listener.accept())

    def close(self) -> None:
        self._listener.close()


class PipeTransport:
    def __init__(self, name: str | None = None) -> None:
        self.name = name or pipe_name()

    def connect(self, timeout: float) -> Channel:
        from multiprocessing.connection import Client  # here: see _PipeListener

        try:
            return _PipeChannel(Client(address=self.name, family="AF_PIPE"))
        except (FileNotFoundError, ConnectionRefusedError):
            raise DaemonNotRunning() from None

    def listen(self) -> Listener:
        return _PipeListener(self.name)


def default_transport() -> Transport:
    return PipeTransport() if sys.platform == "win32" else UnixTransport()


# --- client -----------------------------------------------------------------------------------


def request(
    cmd: str, *, timeout: float = 15.0, transport: Transport | None = None, **params: Any
) -> Any:
    """Send one request to the running daemon and return its result.

    Raises DaemonNotRunning when nothing listens, RemoteError when the daemon refused.
    """
    channel = (transport or default_transport()).connect(timeout)
    try:
        channel.send(json.dumps({"v": PROTOCOL_VERSION, "cmd": cmd, **params}).encode())
        try:
            raw = channel.receive()
        except TimeoutError:
            raise ControlError(
                f"vms-tray did not answer {cmd!r} within {timeout:.0f}s (see its log)"
            ) from None
    finally:
        channel.close()
    try:
        reply = json.loads(raw)
    except ValueError:
        raise ControlError("the daemon sent an unreadable answer: restart vms-tray") from None
    if not isinstance(reply, dict):
        raise ControlError("the daemon sent an unreadable answer: restart vms-tray")
    if not reply.get("ok"):
        raise RemoteError(str(reply.get("error", "failed")), str(reply.get("code", "")))
    return reply.get("result")


# --- server -----------------------------------------------------------------------------------


class ControlServer:
    """Accepts connections on a thread; each request is answered by ``handler`` on its own thread.

    ``handler`` returns the result (any JSON value) or raises; a VmsTrayError's message goes back
    as the error line. Anything else is reported by class name only (it may carry a secret).
    """

    def __init__(self, handler: Callable[[Request], Any], transport: Transport | None = None):
        self._handler = handler
        self._transport = transport or default_transport()
        self._listener: Listener | None = None
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._answering: set[threading.Thread] = set()

    def start(self) -> None:
        self._listener = self._transport.listen()
        self._thread = threading.Thread(target=self._serve, name="control", daemon=True)
        self._thread.start()

    def close(self, drain: float = DRAIN_TIMEOUT) -> None:
        """Stop accepting, then give the requests in progress up to ``drain`` seconds to send
        their answers: the answer to ``quit`` is written after the daemon began to stop, and
        request threads do not outlive the process."""
        self._closed.set()
        if self._listener is not None:
            self._listener.close()
        deadline = time.monotonic() + drain
        with self._lock:
            pending = [t for t in self._answering if t is not threading.current_thread()]
        for thread in pending:
            thread.join(max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in pending):
            log.warning("closed the control socket with a request still unanswered")

    def _serve(self) -> None:
        assert self._listener is not None
        while not self._closed.is_set():
            try:
                channel = self._listener.accept()
            except OSError:
                if self._closed.is_set():
                    return
                log.exception("control socket accept failed")
                continue
            thread = threading.Thread(
                target=self._answer, args=(channel,), name="control-request", daemon=True
            )
            # Registered and started under one lock: close() must never see a thread it cannot
            # join yet (that raised RuntimeError and made a clean quit exit 1).
            with self._lock:
                self._answering.add(thread)
                thread.start()

    def _answer(self, channel: Channel) -> None:
        try:
            try:
                req = json.loads(channel.receive())
                if not isinstance(req, dict) or not isinstance(req.get("cmd"), str):
                    raise ControlError("malformed control request")
                reply: Response = {"ok": True, "result": self._handler(req)}
            except VmsTrayError as exc:
                reply = {"ok": False, "error": str(exc), "code": type(exc).__name__}
            except (ValueError, RecursionError):  # not JSON, or nested too deep to parse
                reply = {"ok": False, "error": "malformed control request", "code": "ControlError"}
            except Exception as exc:
                log.exception("control request failed")
                reply = {
                    "ok": False,
                    "error": f"unexpected {type(exc).__name__} in vms-tray (see its log)",
                    "code": type(exc).__name__,
                }
            channel.send(json.dumps(reply).encode())
        except (OSError, ControlError):
            log.debug("control client went away")
        finally:
            channel.close()
            with self._lock:
                self._answering.discard(threading.current_thread())
