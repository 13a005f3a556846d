"""The headless daemon as a real process against the real reference server on loopback.

Each test starts ``vms-tray --debug run --headless`` with its own profile and short intervals,
drives it only through the CLI (real control socket), and watches the server's own view.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import pytest

from tests.support.components import require, wait_until
from tests.support.refserver import RefServer, refserver_factory  # noqa: F401 - fixture
from vms_tray import control, paths
from vms_tray.connections.model import Connection, Trust
from vms_tray.connections.store import ConnectionStore
from vms_tray.errors import ControlError, SessionEnded
from vms_tray.kinds import create_server
from vms_tray.kinds.base import ClientInfo, ServerKind
from vms_tray.session.records import SignedIn, Tokens

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery 42"
FAST = {
    "VMS_TRAY_POLL_INTERVAL": "0.5",
    # These tests count polls: keep them at pace while the events stream is up too.
    "VMS_TRAY_LIVE_POLL_INTERVAL": "0.5",
    "VMS_TRAY_HEARTBEAT_INTERVAL": "0.5",
    "VMS_TRAY_BACKOFF_INITIAL": "0.2",
    "VMS_TRAY_BACKOFF_CAP": "1",
    "VMS_TRAY_SEAT_RETRY_INTERVAL": "0.5",
    "VMS_TRAY_REQUEST_TIMEOUT": "3",
}
TOKEN_LIKE = re.compile(r"[A-Za-z0-9_-]{43}")  # token_urlsafe(32): the server's every token


def pinned(server: RefServer, name: str = "office") -> Connection:
    trust = Trust(mode="pinned", pin_sha256=server.fingerprint)
    return Connection(name, server.url, "anna", trust=trust)


def configure(*servers: tuple[str, RefServer]) -> None:
    def add(lst: Any) -> Any:
        for name, srv in servers:
            trust = Trust(mode="pinned", pin_sha256=srv.fingerprint)
            lst = lst.add(name, srv.url, "anna", trust=trust)
        return lst

    ConnectionStore().update(add)


@dataclass
class Other:
    """Another device signed in to the same account (the real protocol client)."""

    kind: ServerKind
    tokens: Tokens

    def close(self) -> None:
        self.kind.close()


def other_device(server: RefServer, device: str) -> Other:
    kind = create_server(pinned(server))
    outcome = kind.sign_in("anna", PASSWORD, ClientInfo(device, "vms-tray", "1.0"))
    assert isinstance(outcome, SignedIn), outcome
    return Other(kind, outcome.tokens)


def other_device_with_dash_id(server: RefServer, device: str) -> Other:
    """Another device whose session id begins with '-' (ids are token_urlsafe: 1 in 64 does),
    the case argparse once took for an option. Signs in and out until the server hands one out.
    """
    for _ in range(1500):  # (63/64)**1500 < 1e-10
        other = other_device(server, device)
        if other.tokens.session_id is not None and other.tokens.session_id.startswith("-"):
            return other
        other.kind.sign_out(other.tokens)
        other.close()
    raise AssertionError("the server never handed out a session id beginning with '-'")


class DaemonProcess:
    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.stderr_path = workdir / "daemon.stderr"

    def start(self, *args: str, headless: bool = True) -> Self:
        mode = ["--headless"] if headless else []
        with self.stderr_path.open("ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "vms_tray", "--debug", "run", *mode, *args],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        wait_until(self.answers, 20, "the daemon's control socket")
        return self

    def answers(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"daemon exited {self.proc.returncode}:\n{self.stderr()}")
        try:
            control.request("ping", timeout=2)
        except (ControlError, OSError):
            return False
        return True

    def cli(
        self, *args: str, input: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "vms_tray", *args],
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def ok(self, *args: str, input: str | None = None) -> str:
        r = self.cli(*args, input=input)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
        return r.stdout

    def status(self) -> dict[str, Any]:
        """Over the real control socket, without a CLI process per look."""
        result: dict[str, Any] = control.request("status")
        return result

    def cli_status(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.ok("status", "--json"))
        return result

    def wait_state(self, state: str, timeout: float = 20) -> dict[str, Any]:
        wait_until(lambda: self.status()["state"] == state, timeout, f"state {state}")
        return self.status()

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def log(self) -> str:
        return (paths.log_dir() / "vms-tray.log").read_text(encoding="utf-8", errors="replace")

    def notices(self, text: str) -> int:
        """Headless notices: one ``vms-tray: TITLE: BODY`` line each on stderr."""
        lines = self.stderr().splitlines()
        return sum(1 for line in lines if line.startswith("vms-tray: ") and text in line)

    def polls(self) -> int:
        return len(re.findall(r"HTTP Request: GET \S+/sessions ", self.log()))

    def wait_polls(self, n: int) -> None:
        target = self.polls() + n
        wait_until(lambda: self.polls() >= target, 20, f"{n} more polls")

    def sign_in(self) -> dict[str, Any]:
        out = self.ok("signin", input=PASSWORD + "\n")
        assert "Signed in" in out, out
        return self.wait_state("signed_in")

    def our_session_id(self) -> str:
        listing = json.loads(self.ok("sessions", "--json"))
        (ours,) = [s["id"] for s in listing["sessions"] if s["current"]]
        return str(ours)

    def wait_exit(self, timeout: float = 10) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def assert_no_secrets(self, *secrets: str) -> None:
        for text in (self.log(), self.stderr()):
            for secret in (PASSWORD, *secrets):
                assert secret not in text
            assert TOKEN_LIKE.search(text) is None, TOKEN_LIKE.search(text)


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[Callable[[], DaemonProcess]]:
    made: list[DaemonProcess] = []

    def make() -> DaemonProcess:
        env = {**os.environ, **FAST}
        env.pop("DISPLAY", None)
        d = DaemonProcess(tmp_path, env)
        made.append(d)
        return d

    yield make
    for d in made:
        d.kill()


def server_sessions(server: RefServer, other: Other) -> list[dict[str, Any]]:
    return [
        {"id": s.id, "device": s.device}
        for s in other.kind.list_sessions(other.tokens.access_token).sessions
    ]


def test_no_daemon_says_so_in_one_line() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "vms_tray", "status"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0 and "not running" in r.stderr


def test_life_of_a_session(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    daemon_factory: Callable[[], DaemonProcess],
) -> None:
    server = refserver_factory(users={"anna": PASSWORD}, max_sessions=3)
    configure(("office", server))
    d = daemon_factory().start()
    assert d.cli_status()["state"] == "signed_out"  # no stored password: it asks
    assert d.notices("password needed") == 1
    status = d.sign_in()
    assert status["server"] == "office" and status["login"] == "anna"
    assert "Signed in" in d.ok("signin")  # already signed in: no password asked
    assert 0 < status["expires_in"] <= 300
    d.wait_polls(1)
    assert d.status()["sessions_in_use"] == 1 and d.status()["max_sessions"] == 3

    # Others fill the account: one warning per crossing, however many polls.
    a = other_device(server, "OPS-PC-12")
    d.wait_polls(3)
    assert d.notices("office: 1 seat left: 2 of 3 sessions in use") == 1
    b = other_device(server, "OPS-PC-13")
    d.wait_polls(3)
    assert d.notices("1 seat left") == 1
    assert d.notices("office: all seats in use: 3 of 3 sessions in use") == 1
    b.kind.sign_out(b.tokens)
    b.close()
    d.wait_polls(2)
    assert d.notices("1 seat left") == 1  # full -> near is not a new warning
    assert d.status()["sessions_in_use"] == 2

    # Another device ends our session: ended, named, and no sign-in by itself.
    ours = d.our_session_id()
    a.kind.end_session(a.tokens.access_token, ours)
    status = d.wait_state("ended")
    assert status["ended_by"] == "OPS-PC-12 (vms-tray 1.0)"
    assert d.notices("Your session was ended from OPS-PC-12 (vms-tray 1.0)") == 1
    assert [s["device"] for s in server_sessions(server, a)] == ["OPS-PC-12"]

    # Sign in again, then quit: the server lists one session fewer.
    d.sign_in()
    assert len(server_sessions(server, a)) == 2
    out = d.ok("quit")
    assert "stopped" in out
    assert d.wait_exit() == 0
    assert [s["device"] for s in server_sessions(server, a)] == ["OPS-PC-12"]
    d.assert_no_secrets(a.tokens.access_token)
    a.close()


def test_server_killed_and_restarted_session_survives(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    daemon_factory: Callable[[], DaemonProcess],
) -> None:
    server = refserver_factory(users={"anna": PASSWORD}, max_sessions=3)
    configure(("office", server))
    d = daemon_factory().start()
    d.sign_in()
    ours = d.our_session_id()
    server.kill()
    status = d.wait_state("reconnecting")
    assert status["last_error"]
    # Told once the outage outlasts the first quick retry (a blip alone makes no noise).
    wait_until(lambda: d.notices("does not answer") == 1, 20, "the outage notice")
    server.restart()
    d.wait_state("signed_in", timeout=30)
    assert d.our_session_id() == ours  # no new sign-in: the same session
    assert d.notices("answers again") == 1
    # 503 with Retry-After: reconnecting, then back by itself.
    server.set_busy(1)
    d.wait_state("reconnecting")
    server.clear_busy()
    d.wait_state("signed_in", timeout=30)
    assert d.our_session_id() == ours
    d.proc.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
    started = time.monotonic()
    assert d.wait_exit() == 0
    assert time.monotonic() - started < 3  # sign-out is bounded to 2 s, then exit
    other = other_device(server, "CHECK")
    assert [s["device"] for s in server_sessions(server, other)] == ["CHECK"]  # seat freed
    other.close()
    d.assert_no_secrets()


def test_captcha_completed_through_the_cli(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    daemon_factory: Callable[[], DaemonProcess],
    tmp_path: Path,
) -> None:
    server = refserver_factory(users={"anna": PASSWORD}, captcha="always")
    configure(("office", server))
    d = daemon_factory().start()
    out = d.ok("signin", input=PASSWORD + "\n")
    assert "captcha" in out
    d.wait_state("captcha_required")
    png = tmp_path / "captcha.png"
    d.ok("captcha", "save", str(png))
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    first = d.cli("captcha", "answer", "WRONG1")
    assert first.returncode == 0 and "captcha" in first.stdout
    d.ok("captcha", "refresh")
    captcha_id = _captcha_id(d)
    answer = server.captcha_answer(captcha_id)
    out = d.ok("captcha", "answer", "-", input=answer + "\n")
    assert "Signed in" in out
    d.ok("quit")
    assert d.wait_exit() == 0
    d.assert_no_secrets(answer)


def _captcha_id(d: DaemonProcess) -> str:
    reply = control.request("captcha")
    assert base64.b64decode(reply["png"]).startswith(b"\x89PNG")
    return str(reply["id"])


def test_limit_conflict_end_one_session_through_the_cli(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    daemon_factory: Callable[[], DaemonProcess],
) -> None:
    server = refserver_factory(users={"anna": PASSWORD}, max_sessions=1)
    configure(("office", server))
    holder = other_device(server, "OPS-PC-12")
    d = daemon_factory().start()
    out = d.ok("signin", input=PASSWORD + "\n")
    assert "No free session" in out
    d.wait_state("limit_reached")
    listing = json.loads(d.ok("sessions", "--json"))
    limit = listing["limit"]
    assert {k: limit[k] for k in ("scope", "max", "active")} == {
        "scope": "account",
        "max": 1,
        "active": 1,
    }
    # Protocol v1.1's estimate: full, so the soonest a seat frees itself (idle timeout) is said.
    assert limit["next_free_at"].endswith("Z")
    (entry,) = listing["sessions"]
    assert entry["device"] == "OPS-PC-12"
    refused = d.cli("sessions", "end", entry["id"], input="n\n")
    assert refused.returncode == 1 and "unsaved data" in refused.stderr
    # The prompt names the device, not only the id.
    assert f"End OPS-PC-12's session (id {entry['id']})?" in refused.stderr
    # An id that names no session: exit 1 in one line, and the limit choice is still open.
    wrong = d.cli("sessions", "end", "--yes", "--", "WRONGID")
    assert wrong.returncode == 1, (wrong.stdout, wrong.stderr)
    assert wrong.stderr == (
        "vms-tray: no session with id WRONGID; run 'vms-tray sessions' to list them\n"
    )
    assert "No free session" not in wrong.stdout
    assert d.status()["state"] == "limit_reached"
    out = d.ok("sessions", "end", entry["id"], "--yes")
    assert "Signed in" in out
    d.wait_state("signed_in")
    assert d.status()["sessions_in_use"] == 1
    d.ok("quit")
    assert d.wait_exit() == 0
    d.assert_no_secrets(holder.tokens.access_token)
    holder.close()


def test_limit_conflict_wait_until_a_seat_frees(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    daemon_factory: Callable[[], DaemonProcess],
) -> None:
    server = refserver_factory(users={"anna": PASSWORD}, max_sessions=1)
    configure(("office", server))
    holder = other_device(server, "OPS-PC-12")
    d = daemon_factory().start()
    d.ok("signin", input=PASSWORD + "\n")
    d.wait_state("limit_reached")
    out = d.ok("wait")
    assert "Waiting" in out
    assert d.status()["waiting_for_seat"] is True
    holder.kind.sign_out(holder.tokens)
    follow = d.cli("wait", "--timeout", "20")
    # The seat may already be taken by the time the CLI asks: either way it ends signed in.
    assert d.wait_state("signed_in")["waiting_for_seat"] is False
    assert follow.returncode in (0, 1)
    assert d.notices("a seat freed up") == 1
    d.ok("quit")
    assert d.wait_exit() == 0
    holder.close()


def test_second_instance_shows_the_first_and_stale_socket_is_taken_over(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    daemon_factory: Callable[[], DaemonProcess],
) -> None:
    server = refserver_factory(users={"anna": PASSWORD})
    configure(("office", server))
    first = daemon_factory().start()
    second = first.cli("run", "--headless", timeout=30)
    assert second.returncode == 0 and "already running" in second.stderr
    wait_until(lambda: "asked this one to show itself" in first.log(), 10, "ShowWindow")
    # A crash leaves the socket behind: the next start detects it and takes over.
    first.kill()
    assert control.socket_path().exists()
    again = daemon_factory().start()
    assert again.status()["state"] == "signed_out"
    again.ok("quit")
    assert again.wait_exit() == 0


def signed_in_to_office_beside_annex(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    daemon_factory: Callable[[], DaemonProcess],
) -> tuple[RefServer, RefServer, DaemonProcess]:
    """Two servers, office and annex, and a daemon signed in to office (no keyring)."""
    one = refserver_factory(users={"anna": PASSWORD})
    two = refserver_factory(users={"anna": PASSWORD})
    configure(("office", one), ("annex", two))
    d = daemon_factory().start()
    d.sign_in()
    return one, two, d


def test_switch_keeps_the_seat_until_the_new_password_is_typed(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    daemon_factory: Callable[[], DaemonProcess],
) -> None:
    one, two, d = signed_in_to_office_beside_annex(refserver_factory, daemon_factory)
    bad = d.cli("switch", "nowhere")
    assert bad.returncode == 1 and "nowhere" in bad.stderr
    assert d.status()["state"] == "signed_in"
    # No password stored for annex (no keyring here) and none typed: nothing is given up.
    refused = d.cli("switch", "annex", input="")
    assert refused.returncode == 1 and "nothing was sent" in refused.stderr
    status = d.status()
    assert status["state"] == "signed_in" and status["server"] == "office"
    checker = other_device(one, "CHECK")
    assert len(server_sessions(one, checker)) == 2  # ours is still there
    _the_typed_password_switches(d, one, two, checker, other_device(two, "CHECK"))


def test_a_switch_to_a_server_that_is_down_keeps_the_seat(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    daemon_factory: Callable[[], DaemonProcess],
) -> None:
    one, two, d = signed_in_to_office_beside_annex(refserver_factory, daemon_factory)
    two.stop()
    refused = d.cli("switch", "annex", input=PASSWORD + "\n")
    assert refused.returncode == 1
    line = refused.stderr.strip()
    assert line.startswith("vms-tray: ") and line.endswith("; you are still signed in to office")
    assert "\n" not in line
    status = d.status()
    assert status["state"] == "signed_in" and status["server"] == "office"
    checker = other_device(one, "CHECK")
    assert len(server_sessions(one, checker)) == 2  # ours is still there
    d.ok("quit")
    assert d.wait_exit() == 0
    checker.close()


def test_a_switch_with_a_wrong_password_keeps_the_seat(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    daemon_factory: Callable[[], DaemonProcess],
) -> None:
    """The new server refuses the password: the session on the old one was never signed out."""
    one, two, d = signed_in_to_office_beside_annex(refserver_factory, daemon_factory)
    refused = d.cli("switch", "annex", input="not the password\n")
    assert refused.returncode == 1
    line = refused.stderr.strip()
    assert line.endswith("; you are still signed in to office") and "\n" not in line
    status = d.status()
    assert status["state"] == "signed_in" and status["server"] == "office"
    checker = other_device(one, "CHECK")
    assert len(server_sessions(one, checker)) == 2  # ours is still there
    watcher = other_device(two, "CHECK")
    assert len(server_sessions(two, watcher)) == 1  # and none was left on annex
    _the_typed_password_switches(d, one, two, checker, watcher)


def test_stored_password_signs_in_at_start_and_switch_frees_the_seat(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    daemon_factory: Callable[[], DaemonProcess],
    secret_service_env: dict[str, str],
) -> None:
    require("gnome-keyring", bool(secret_service_env))
    one = refserver_factory(users={"anna": PASSWORD})
    two = refserver_factory(users={"anna": PASSWORD})
    configure(("office", one), ("annex", two))
    d = daemon_factory()
    d.env = {**secret_service_env, **FAST, "VMS_TRAY_PROFILE": os.environ["VMS_TRAY_PROFILE"]}
    for name in ("office", "annex"):
        r = d.cli("password", "set", name, input=PASSWORD + "\n")
        assert r.returncode == 0, r.stderr
    d.start()
    d.wait_state("signed_in")
    # The server list asks the running daemon which passwords are stored: the CLI loads no
    # keyring of its own (issue 13), and says the same as the keyring does.
    d.cli("password", "forget", "annex")
    listing = subprocess.run(
        [sys.executable, "-m", "vms_tray", "servers", "list", "--json"],
        env={**d.env, "PYTHONPROFILEIMPORTTIME": "1"},  # the import trace goes to stderr
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listing.returncode == 0, listing.stderr
    stored = {s["name"]: s["password_stored"] for s in json.loads(listing.stdout)}
    assert stored == {"office": True, "annex": False}
    assert "keyring" not in listing.stderr, "the CLI imported keyring"
    r = d.cli("password", "set", "annex", input=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    out = d.ok("switch", "annex")
    assert "Signed in to annex" in out
    checker = other_device(one, "CHECK")
    assert [s["device"] for s in server_sessions(one, checker)] == ["CHECK"]
    d.ok("quit")
    assert d.wait_exit() == 0
    checker.close()


@pytest.mark.desktop
def test_tray_mode_signs_in_at_start_and_quits_from_the_cli(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    daemon_factory: Callable[[], DaemonProcess],
    desktop: Any,
) -> None:
    server = refserver_factory(users={"anna": PASSWORD})
    configure(("office", server))
    d = daemon_factory()
    d.env = {**desktop.env, **FAST, "VMS_TRAY_PROFILE": os.environ["VMS_TRAY_PROFILE"]}
    r = d.cli("password", "set", "office", input=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    d.start(headless=False)
    d.wait_state("signed_in")
    assert "running headless" not in d.stderr()  # the tray really runs
    d.ok("quit")
    assert d.wait_exit() == 0  # the tray stopped with the daemon
    checker = other_device(server, "CHECK")
    assert [s["device"] for s in server_sessions(server, checker)] == ["CHECK"]
    checker.close()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGHUP], ids=["SIGINT", "SIGHUP"])
def test_signals_sign_out_and_exit_0(
    signum: int,
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    daemon_factory: Callable[[], DaemonProcess],
) -> None:
    server = refserver_factory(users={"anna": PASSWORD})
    configure(("office", server))
    d = daemon_factory().start()
    d.sign_in()
    assert d.proc is not None
    d.proc.send_signal(signum)
    started = time.monotonic()
    assert d.wait_exit() == 0
    assert time.monotonic() - started < 3
    checker = other_device(server, "CHECK")
    assert [s["device"] for s in server_sessions(server, checker)] == ["CHECK"]
    checker.close()


def test_end_another_session_while_signed_in(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    daemon_factory: Callable[[], DaemonProcess],
) -> None:
    server = refserver_factory(users={"anna": PASSWORD}, max_sessions=3)
    configure(("office", server))
    d = daemon_factory().start()
    d.sign_in()
    other = other_device_with_dash_id(server, "OPS-PC-12")
    listing = json.loads(d.ok("sessions", "--json"))
    (theirs,) = [s["id"] for s in listing["sessions"] if s["device"] == "OPS-PC-12"]
    assert theirs.startswith("-")
    ours = d.our_session_id()
    refused = d.cli("sessions", "end", ours, "--yes")
    assert refused.returncode == 1 and "vms-tray signout" in refused.stderr
    # "current" is the protocol's name of one's own session: that is 'signout', not 'end'.
    current = d.cli("sessions", "end", "--yes", "--", "current")
    assert current.returncode == 1, (current.stdout, current.stderr)
    assert current.stderr.count("\n") == 1 and "'vms-tray signout'" in current.stderr
    assert d.status()["state"] == "signed_in" and d.our_session_id() == ours
    table = d.ok("sessions").splitlines()
    columns = ["ID", "DEVICE", "SOFTWARE", "ADDRESS", "SINCE", "LAST", "ACTIVITY", "NOTE"]
    assert table[1].split() == columns
    assert any(line.split()[:2] == [theirs, "OPS-PC-12"] for line in table[2:])
    ended = d.ok("sessions", "end", theirs, "--yes")
    assert f"Ended OPS-PC-12's session (id {theirs})" in ended
    with pytest.raises(SessionEnded) as info:
        other.kind.check(other.tokens)
    assert info.value.ended_by is not None and info.value.ended_by.software == "vms-tray"
    assert d.status()["state"] == "signed_in"
    d.ok("quit")
    assert d.wait_exit() == 0
    other.close()


def test_server_list_changes_from_the_cli_reach_the_running_daemon_at_once(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    daemon_factory: Callable[[], DaemonProcess],
) -> None:
    server = refserver_factory(users={"anna": PASSWORD})
    configure(("office", server))
    d = daemon_factory()
    d.env = {**d.env, "VMS_TRAY_POLL_INTERVAL": "3600"}  # no poll re-reads the list meanwhile
    d.start()
    wait_until(lambda: d.status()["servers"] == ["office"], 5, "the daemon's first read")
    d.ok("servers", "add", "annex", server.url, "--login", "anna")
    wait_until(lambda: d.status()["servers"] == ["office", "annex"], 5, "the added server")
    d.ok("servers", "edit", "annex", "--name", "Annex 2")
    wait_until(lambda: d.status()["servers"] == ["office", "Annex 2"], 5, "the renamed server")
    d.ok("servers", "remove", "Annex 2")
    wait_until(lambda: d.status()["servers"] == ["office"], 5, "the removed server")
    d.ok("quit")
    assert d.wait_exit() == 0
    # With no daemon the change is made all the same, silently.
    out = d.cli("servers", "add", "later", server.url, "--login", "anna")
    assert out.returncode == 0 and out.stderr == "", out.stderr


def test_renaming_the_server_in_use_keeps_the_session_and_the_cli_stays_english(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    daemon_factory: Callable[[], DaemonProcess],
) -> None:
    server = refserver_factory(users={"anna": PASSWORD}, max_sessions=3)
    configure(("office", server))
    d = daemon_factory()
    # A Russian desktop: the daemon's notices are Russian, the command line stays English.
    d.env = {**d.env, "VMS_TRAY_LANG": "ru", "LANG": "ru_RU.UTF-8"}
    d.start()
    wait_until(lambda: d.notices("office: нужен пароль") == 1, 10, "the Russian notice")
    d.sign_in()
    d.wait_polls(1)
    assert "sessions: 1 of 3 sessions in use — 2 seats left" in d.ok("status")

    d.ok("servers", "edit", "office", "--name", "HQ")
    wait_until(lambda: d.status()["server"] == "HQ", 5, "the daemon to follow the rename")
    assert d.status()["state"] == "signed_in" and d.status()["servers"] == ["HQ"]
    listing = json.loads(d.ok("sessions", "--json"))
    assert len(listing["sessions"]) == 1
    # Signing in again to the renamed server is a check, not a second seat.
    assert "Signed in" in d.ok("signin")
    assert len(json.loads(d.ok("sessions", "--json"))["sessions"]) == 1
    d.ok("quit")
    assert d.wait_exit() == 0


# --- a hostile server ---------------------------------------------------------------------------

EVIL = "EVIL\x1b]0;owned\x07\x1b[2J \u202eexe.txt"
EVIL_SHOWN = "EVIL\\x1b]0;owned\\x07\\x1b[2J \\u202eexe.txt"


@contextmanager
def hostile_server(detail: str) -> Iterator[tuple[str, str]]:
    """A tiny protocol v1 server over TLS that describes itself and refuses every sign-in with
    a problem whose ``detail`` is ``detail``: what the reference server never sends (it refuses
    control characters). Yields its URL and certificate fingerprint."""
    import http.server
    import ssl
    import threading

    import trustme

    from vms_tray.net import tls

    cert = trustme.CA().issue_cert("127.0.0.1")

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any], media: str) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", media)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/api/v1/server":
                self._answer(200, SERVER_INFO, "application/json")
            else:
                self._answer(404, {"type": "about:blank", "status": 404}, PROBLEM)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            problem = {"type": "https://vms.example/problems/brand-new", "status": 400}
            self._answer(400, {**problem, "title": "Refused", "detail": detail}, PROBLEM)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(ctx)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())
    try:
        yield f"https://127.0.0.1:{httpd.server_address[1]}", tls.fingerprint_sha256(der)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


PROBLEM = "application/problem+json"
SERVER_INFO = {
    "name": "hostile",
    "product": "fake",
    "version": "1",
    "api_version": "1.0",
    "captcha": "never",
    "idle_timeout": None,
    "server_time": "2026-11-27T06:00:00Z",
}


@pytest.mark.security  # issue 14: with tests/security/ under -m security
def test_a_servers_words_reach_the_status_and_the_notices_escaped(
    daemon_factory: Callable[[], DaemonProcess],
) -> None:
    """Issue 14 item 4: a problem's detail with ESC, BEL and U+202E ends up in the daemon's
    error message; status, the CLI and the headless notice (stderr) show it as escapes."""
    with hostile_server(EVIL) as (url, fingerprint):
        trust = Trust(mode="pinned", pin_sha256=fingerprint)
        ConnectionStore().update(lambda lst: lst.add("office", url, "anna", trust=trust))
        d = daemon_factory().start()
        r = d.cli("signin", input=PASSWORD + "\n")
        assert r.returncode == 1, (r.stdout, r.stderr)
        assert EVIL_SHOWN in r.stderr, r.stderr
        status = d.cli_status()
        assert EVIL_SHOWN in status["last_error"], status
        assert EVIL_SHOWN in d.ok("status")
        wait_until(lambda: d.notices(EVIL_SHOWN) == 1, 10, "the sign-in failure notice")
        for text in (r.stdout, r.stderr, status["last_error"], d.ok("status"), d.stderr()):
            assert not any(c in text for c in "\x1b\x07\u202e"), text
        d.ok("quit")
        assert d.wait_exit() == 0


# --- a certificate incident ---------------------------------------------------------------------

ACCESS_LINE = re.compile(r'"(?:GET|POST|PUT|DELETE|PATCH) /')
SIGN_IN = re.compile(r"HTTP Request: POST \S+/sessions ")
# The daemon's own client (not the events stream's) refused the certificate in the handshake.
REFUSED = re.compile(r" daemon httpcore\.connection: start_tls\.failed \S+PinMismatch")


@pytest.mark.security  # issue 14: with tests/security/ under -m security
def test_a_certificate_incident_keeps_the_seat_and_sends_nothing_to_the_impostor(
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    daemon_factory: Callable[[], DaemonProcess],
) -> None:
    """Issue 14 item 7: the pinned server comes back with another certificate on its port. The
    daemon says so at once, keeps its session, sends not one request to the new certificate
    (no sign-in, no token) and retries on its backoff; when the pinned certificate is back it
    resumes the same session: one seat, no second sign-in."""
    server = refserver_factory(
        users={"anna": PASSWORD}, max_sessions=3, extra_args=["--access-log"]
    )
    configure(("office", server))
    d = daemon_factory().start()
    d.sign_in()
    ours = d.our_session_id()
    d.wait_polls(1)

    sign_ins = len(SIGN_IN.findall(d.log()))
    assert sign_ins == 1

    pinned_fp = server.restart_with_new_certificate()
    wait_until(
        lambda: "is not the pinned one" in (d.status()["last_error"] or ""), 20, "the trust failure"
    )
    status = d.status()
    assert status["state"] == "reconnecting", status
    assert pinned_fp in status["last_error"] and server.fingerprint in status["last_error"]
    wait_until(lambda: d.notices("certificate not trusted") == 1, 10, "the trust notice")
    # It keeps trying on its backoff (0.2 s, at most 1 s here): several refused handshakes.
    tries = len(REFUSED.findall(d.log()))
    wait_until(lambda: len(REFUSED.findall(d.log())) >= tries + 3, 20, "3 more tries")
    assert d.status()["state"] == "reconnecting"
    impostor_log = server.process_stderr()  # its access log is on (--access-log)
    assert ACCESS_LINE.search(impostor_log) is None, impostor_log  # not one request
    assert d.notices("certificate not trusted") == 1  # said once, not at every try

    server.restore_certificate()
    back = time.monotonic()
    d.wait_state("signed_in", timeout=15)
    assert time.monotonic() - back < 10  # within the backoff, not minutes later
    assert d.our_session_id() == ours  # the same session, resumed
    listing = json.loads(d.ok("sessions", "--json"))["sessions"]
    assert [s["id"] for s in listing] == [ours]  # one seat: no second sign-in
    assert len(SIGN_IN.findall(d.log())) == sign_ins
    assert ACCESS_LINE.search(server.process_stderr())  # the pinned server is asked again
    d.ok("quit")
    assert d.wait_exit() == 0
    d.assert_no_secrets()


def _the_typed_password_switches(
    d: DaemonProcess, one: RefServer, two: RefServer, checker: Other, watcher: Other
) -> None:
    """``vms-tray switch annex`` with the right password: annex holds our session beside
    ``watcher``'s, office only ``checker``'s; then quit."""
    before = len(server_sessions(two, watcher))
    out = d.ok("switch", "annex", input=PASSWORD + "\n")
    assert "Signed in to annex" in out
    assert len(server_sessions(two, watcher)) == before + 1
    assert [s["device"] for s in server_sessions(one, checker)] == ["CHECK"]
    d.ok("quit")
    assert d.wait_exit() == 0
    watcher.close()
    checker.close()
