"""Another local user against the control socket (issue 14 items 1 and 10).

The attacker is a real process under another uid (``tests.support.users``) listening where the
victim's CLI would connect; the victim is this process, sending a sign-in with a password. The
attacker reports every byte it received: the answer must be none, whatever it prepared (the
folder made first, a symlink to a folder of its own, a socket of its own in the victim's folder).
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.users import User, another_user, shared_dir
from vms_tray import control, paths
from vms_tray.app.instance import InstanceLock
from vms_tray.errors import ControlError, VmsTrayError

pytestmark = pytest.mark.security

PASSWORD = "hunter2-correct-horse"

# Listens on a path (or on a socket passed as fd 3) and records each connection's first line.
# "END" from the test stops it; it then prints what it received, as JSON.
ATTACKER = r"""
import json, socket, sys
if sys.argv[1] == "fd":
    s = socket.socket(fileno=int(sys.argv[2]))
else:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(sys.argv[2])
s.listen(8)
print("ready", flush=True)
got = []
s.settimeout(30)
while True:
    c, _ = s.accept()
    c.settimeout(10)
    data = b""
    while not data.endswith(b"\n"):
        chunk = c.recv(65536)
        if not chunk:
            break
        data += chunk
    c.close()
    if data == b"END\n":
        break
    got.append(data.decode("utf-8", "replace"))
print(json.dumps(got), flush=True)
"""


@pytest.fixture
def attacker() -> User:
    return another_user()


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The victim's profile sits in a folder anyone may write to (like the old fallback in
    /tmp): the other user can prepare its run folder before the victim's first start."""
    with shared_dir() as d:
        monkeypatch.setenv("VMS_TRAY_PROFILE", str(d / "victim"))
        yield d


class Listening:
    def __init__(self, proc: subprocess.Popen[str], path: Path) -> None:
        self.proc = proc
        self.path = path
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == "ready\n", (line, proc.stderr.read() if proc.stderr else "")

    def received(self) -> str:
        """Stop the attacker and return every byte it was sent (over all connections)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(str(self.path))
            s.sendall(b"END\n")
        out, err = self.proc.communicate(timeout=30)
        assert self.proc.returncode == 0, err
        got: list[str] = json.loads(out.splitlines()[-1])
        return "".join(got)


def _listen_as(user: User, path: Path, *, fd: int | None = None) -> Listening:
    if fd is None:
        proc = user.python(
            ATTACKER, "path", str(path), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    else:
        proc = user.python(
            ATTACKER, "fd", str(fd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=(fd,)
        )
    return Listening(proc, path)


def _sign_in_attempt() -> str:
    with pytest.raises(ControlError) as info:
        control.request("signin", password=PASSWORD, timeout=10)
    return str(info.value)


def test_cli_sends_nothing_into_a_run_folder_another_user_made(
    attacker: User, shared: Path
) -> None:
    run = paths.runtime_dir()
    run.parent.mkdir(mode=0o777)
    run.parent.chmod(0o777)
    run.mkdir(mode=0o700)
    os.chown(run, attacker.uid, attacker.gid)
    evil = _listen_as(attacker, run / "control.sock")
    try:
        message = _sign_in_attempt()
    finally:
        got = evil.received()
    assert got == ""
    assert "another user" in message and str(run) in message and "sent nothing" in message


def test_cli_sends_nothing_through_a_symlinked_run_folder(attacker: User, shared: Path) -> None:
    run = paths.runtime_dir()
    run.parent.mkdir()
    own = shared / "attackers-own"
    own.mkdir(mode=0o700)
    os.chown(own, attacker.uid, attacker.gid)
    run.symlink_to(own)
    os.lchown(run, attacker.uid, attacker.gid)
    evil = _listen_as(attacker, own / "control.sock")
    try:
        message = _sign_in_attempt()
    finally:
        got = evil.received()
    assert got == ""
    assert "symbolic link" in message and str(run) in message


def test_cli_checks_who_listens_before_sending(attacker: User, shared: Path) -> None:
    """Even in the victim's own private folder: a socket another uid listens on gets nothing
    (SO_PEERCRED on the client's side too)."""
    run = paths.runtime_dir()
    run.mkdir(parents=True, mode=0o700)
    path = run / "control.sock"
    bound = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    bound.bind(str(path))  # by us; the other user calls listen(), so the kernel names them
    try:
        evil = _listen_as(attacker, path, fd=bound.fileno())
    finally:
        bound.close()
    try:
        message = _sign_in_attempt()
    finally:
        got = evil.received()
    assert got == ""
    assert f"another user (uid {attacker.uid})" in message


def test_cli_refuses_a_run_folder_open_to_others(shared: Path) -> None:
    run = paths.runtime_dir()
    run.mkdir(parents=True)
    run.chmod(0o755)
    assert "open to other users (mode 0755)" in _sign_in_attempt()


def test_daemon_never_chmods_through_a_symlinked_run_folder(tmp_path: Path) -> None:
    """The run folder replaced by a link to another folder of the user's: the daemon refuses,
    and that folder keeps its mode (the daemon once made it 0700 through the link)."""
    mine = tmp_path / "documents"
    mine.mkdir()
    mine.chmod(0o755)
    run = paths.runtime_dir()
    run.parent.mkdir(parents=True)
    run.symlink_to(mine)
    server = control.ControlServer(lambda req: "no")
    with pytest.raises(ControlError, match="symbolic link"):
        server.start()
    with pytest.raises(VmsTrayError, match="symbolic link"):
        InstanceLock().acquire()
    assert stat.S_IMODE(mine.stat().st_mode) == 0o755
    assert list(mine.iterdir()) == []


def test_daemon_refuses_a_run_folder_another_user_made(attacker: User, shared: Path) -> None:
    """``vms-tray run`` (a real process) stops with one line naming the folder and leaves the
    other user's folder as it was (no chmod, no lock file, no socket in it)."""
    run = paths.runtime_dir()
    run.parent.mkdir()
    run.mkdir()
    run.chmod(0o777)
    os.chown(run, attacker.uid, attacker.gid)
    env = {**os.environ, "VMS_TRAY_PROFILE": os.environ["VMS_TRAY_PROFILE"]}
    env.pop("DISPLAY", None)
    r = subprocess.run(
        [sys.executable, "-m", "vms_tray", "run", "--headless"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1, r.stderr
    assert str(run) in r.stderr and "another user" in r.stderr
    assert stat.S_IMODE(run.stat().st_mode) == 0o777
    assert list(run.iterdir()) == []


# --- item 10: the runtime folder without XDG_RUNTIME_DIR, bursts of clients ----------------------


@pytest.mark.parametrize("xdg", ["unset", "not-private"])
def test_no_runtime_dir_warning_and_no_shared_fallback(
    xdg: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a usable XDG_RUNTIME_DIR (cron, su, containers) every command warned
    (platformdirs' RuntimeDirWarning) and the run folder fell back to /tmp/runtime-<uid>, a
    name another user can take first. The fallback is the user's own state folder."""
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home)}
    for name in ("VMS_TRAY_PROFILE", "XDG_STATE_HOME", "XDG_RUNTIME_DIR"):
        env.pop(name, None)
    if xdg == "not-private":
        loose = tmp_path / "runtime"
        loose.mkdir()
        loose.chmod(0o755)
        env["XDG_RUNTIME_DIR"] = str(loose)
    code = "from vms_tray import control; print(control.socket_path())"
    where = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert where.stderr == ""
    assert where.stdout.strip() == str(
        home / ".local" / "state" / "vms-tray" / "run" / "control.sock"
    )
    status = subprocess.run(
        [sys.executable, "-m", "vms_tray", "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert status.returncode == 1
    assert status.stderr == "vms-tray: vms-tray is not running (start it with 'vms-tray run')\n"


def test_a_burst_of_clients_all_get_in_while_the_daemon_is_busy() -> None:
    """200 clients connect while the daemon accepts none (busy): with a backlog of 16 the 17th
    found the queue full (EAGAIN at once) and the command failed."""
    listener = control.UnixTransport().listen()
    clients: list[Any] = []
    try:
        for _ in range(200):
            clients.append(control.UnixTransport().connect(timeout=5))
    finally:
        for c in clients:
            c.close()
        listener.close()
    assert len(clients) == 200


def test_a_burst_of_concurrent_requests_is_answered() -> None:
    server = control.ControlServer(lambda req: req["n"])
    server.start()
    n = 300
    barrier = threading.Barrier(n)
    answers: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        barrier.wait(30)
        try:
            reply = control.request("echo", n=i, timeout=30)
        except BaseException as exc:
            with lock:
                errors.append(exc)
            return
        with lock:
            answers.append(reply)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    server.close()
    assert errors == []
    assert sorted(answers) == list(range(n))
