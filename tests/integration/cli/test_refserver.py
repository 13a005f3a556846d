"""``vms-tray server ...`` as a user runs it: processes, stdin passwords, signals, TLS files."""

from __future__ import annotations

import json
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import trustme

from vms_tray.refserver.storage import Store
from vms_tray.refserver.tls import fingerprint_pem
from vms_tray.refserver.tokens import verify_password

pytestmark = pytest.mark.integration


def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vms_tray", "server", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def password_of(data: Path, login: str) -> str:
    store = Store(data / "server.sqlite3")
    try:
        user = store.get_user(login)
        assert user is not None
        return user.password_hash
    finally:
        store.close()


def test_user_management(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    r = cli("user", "add", "anna", "--data", data, stdin="s3cret\n")
    assert (r.returncode, r.stdout) == (0, "added user anna\n")
    assert verify_password("s3cret", password_of(tmp_path / "data", "anna"))

    r = cli("user", "add", "anna", "--data", data, stdin="other\n")
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "already exists" in r.stderr

    assert (
        cli("user", "add", "bob", "--data", data, "--max-sessions", "0", stdin="b\n").returncode
        == 0
    )
    assert cli("user", "limit", "anna", "--data", data, "--max-sessions", "3").returncode == 0
    r = cli("user", "list", "--data", data, "--json")
    assert json.loads(r.stdout) == [
        {"login": "anna", "max_sessions": 3, "active": 0},
        {"login": "bob", "max_sessions": 0, "active": 0},
    ]
    r = cli("user", "list", "--data", data)
    assert "anna\tmax sessions: 3" in r.stdout and "bob\tmax sessions: no limit" in r.stdout

    assert cli("user", "passwd", "anna", "--data", data, stdin="n3w\n").returncode == 0
    assert verify_password("n3w", password_of(tmp_path / "data", "anna"))
    assert cli("user", "remove", "bob", "--data", data).returncode == 0
    r = cli("user", "remove", "bob", "--data", data)
    assert r.returncode == 1 and "no user 'bob'" in r.stderr


def test_passwords_are_never_echoed_and_must_not_be_empty(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    r = cli("user", "add", "anna", "--data", data, stdin="\n")
    assert r.returncode == 1 and "password is empty" in r.stderr
    r = cli("user", "add", "anna", "--data", data, stdin="topsecret\n")
    assert "topsecret" not in r.stdout + r.stderr
    r = cli("user", "add", "bad login", "--data", data, stdin="pw\n")
    assert r.returncode == 1 and "without spaces" in r.stderr


def start(args: list[str], tmp_path: Path) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "vms_tray", "server", "run", *args],
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "stderr").open("w"),
        text=True,
    )
    assert proc.stdout is not None
    lines = [proc.stdout.readline(), proc.stdout.readline()]
    return proc, lines


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(15)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_run_prints_url_and_fingerprint_then_exits_0_on_sigint(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc, lines = start(["--data", str(data), "--port", "0"], tmp_path)
    try:
        assert lines[0].startswith("listening https://127.0.0.1:")
        url = lines[0].split()[1]
        assert lines[1].startswith("certificate sha256 ")
        fingerprint = lines[1].split()[2]
        pem = (data / "server.crt").read_bytes()
        assert fingerprint == fingerprint_pem(pem)
        context = ssl.create_default_context(cadata=pem.decode())
        r = httpx.get(f"{url}/api/v1/server", verify=context, timeout=10)
        assert r.json()["captcha"] == "after-failures"  # the default policy
    finally:
        code = stop(proc, signal.SIGINT)
    assert code == 0
    # The certificate is made once and reused.
    proc, lines2 = start(["--data", str(data), "--port", "0"], tmp_path)
    try:
        assert lines2[1] == lines[1]
    finally:
        assert stop(proc) == 0


def test_run_with_a_given_certificate(tmp_path: Path) -> None:
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    proc, lines = start(
        [
            "--data",
            str(tmp_path / "d"),
            "--port",
            "0",
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
        ],
        tmp_path,
    )
    try:
        assert lines[1].split()[2] == fingerprint_pem(cert.read_bytes())
        context = ssl.create_default_context()
        ca.configure_trust(context)
        r = httpx.get(f"{lines[0].split()[1]}/api/v1/server", verify=context, timeout=10)
        assert r.status_code == 200
        assert not (tmp_path / "d" / "server.crt").exists()
    finally:
        assert stop(proc) == 0


def test_run_refuses_a_busy_port_and_half_a_tls_pair(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = cli("run", "--data", str(tmp_path / "d"), "--port", str(port))
    assert r.returncode == 1 and r.stdout == ""
    assert f"cannot listen on 127.0.0.1 port {port}" in r.stderr.splitlines()[-1]
    r = cli("run", "--data", str(tmp_path / "d"), "--tls-cert", "x.pem")
    assert r.returncode == 1 and "--tls-key" in r.stderr
    r = cli("run", "--data", str(tmp_path / "d"), "--access-ttl", "0.5")
    assert r.returncode == 1 and "at least 1 second" in r.stderr


def test_sigterm_during_a_request_still_exits_0(tmp_path: Path) -> None:
    proc, lines = start(["--data", str(tmp_path / "d"), "--port", "0"], tmp_path)
    url = lines[0].split()[1]
    context = ssl.create_default_context(cadata=(tmp_path / "d" / "server.crt").read_text())
    with httpx.Client(base_url=url, verify=context, timeout=10) as http:
        assert http.get("/api/v1/server").status_code == 200  # a kept-alive connection
        started = time.monotonic()
        assert stop(proc) == 0
    assert time.monotonic() - started < 10


def test_the_features_test_hook_lists_fewer_v1_1_features(tmp_path: Path) -> None:
    """``--features`` (hidden): a server without ``events``, whose clients fall back to polling
    (bench/events_bench.py compares the two)."""
    data = tmp_path / "d"
    proc, lines = start(
        ["--data", str(data), "--port", "0", "--features", "queue,handover"], tmp_path
    )
    try:
        context = ssl.create_default_context(cadata=(data / "server.crt").read_text())
        r = httpx.get(f"{lines[0].split()[1]}/api/v1/server", verify=context, timeout=10)
        assert r.json()["features"] == ["queue", "handover"]
    finally:
        assert stop(proc) == 0
    assert "features limited to queue,handover" in (tmp_path / "stderr").read_text()
    refused = cli("run", "--data", str(data), "--port", "0", "--features", "events,telepathy")
    assert refused.returncode == 1 and "unknown telepathy" in refused.stderr
    assert "--features" not in cli("run", "--help").stdout
