"""``vms-tray servers ...`` as a user runs it: the real entry point in a subprocess."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import shlex
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from tests.support.cli import TIMEOUT, cli_env, run_cli
from tests.support.refserver import RefServer

pytestmark = pytest.mark.integration


def run(
    profile: Path, *args: str, stdin: str | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    return run_cli(cli_env(profile), *args, stdin=stdin, **kwargs)


def ok(profile: Path, *args: str) -> str:
    out = run(profile, *args)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    return out.stdout


def fails(profile: Path, *args: str, code: int = 1) -> str:
    out = run(profile, *args)
    assert out.returncode == code, (out.stdout, out.stderr)
    if code == 1:
        assert out.stderr.startswith("vms-tray: ")
        assert out.stderr.count("\n") == 1, out.stderr
    return out.stderr


def listed(profile: Path) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(ok(profile, "servers", "list", "--json"))
    return data


def config_file(profile: Path) -> Path:
    return profile / "config" / "servers.toml"


# --- the acceptance scenario ---------------------------------------------------------------------


def test_acceptance_add_list_refuse_http_and_protect_the_default(isolated_profile: Path) -> None:
    p = isolated_profile
    out = ok(p, "servers", "add", "Office", "vms.example.com", "--login", "anna")
    assert "https://vms.example.com" in out
    [office] = listed(p)
    assert office["name"] == "Office"
    assert office["url"] == "https://vms.example.com"
    assert office["login"] == "anna"
    assert office["default"] is True
    assert office["kind"] == "native"
    assert office["trust"] == {"mode": "system", "ca_file": None, "pin_sha256": None}

    err = fails(p, "servers", "add", "Lab", "http://lab.example.com", "--login", "anna")
    assert "https" in err and "http://" in err
    assert [s["name"] for s in listed(p)] == ["Office"]

    ok(p, "servers", "add", "Lab", "lab.example.com", "--login", "anna")
    err = fails(p, "servers", "remove", "Office")
    assert "choose another default first" in err
    ok(p, "servers", "remove", "Lab")
    assert [(s["name"], s["default"]) for s in listed(p)] == [("Office", True)]

    path = config_file(p)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert "password" not in text.replace("Passwords are not stored here", "")


def test_a_url_missing_its_colon_is_refused_with_the_fix_and_nothing_is_stored(
    isolated_profile: Path,
) -> None:
    p = isolated_profile
    err = fails(p, "servers", "add", "Lab", "https//127.0.0.1:35979", "--login", "anna")
    assert "did you mean 'https://127.0.0.1:35979'?" in err
    assert not config_file(p).exists()
    ok(p, "servers", "add", "Office", "vms.example.com", "--login", "anna")
    err = fails(p, "servers", "edit", "Office", "--url", "https//127.0.0.1:35979")
    assert "did you mean 'https://127.0.0.1:35979'?" in err
    assert [s["url"] for s in listed(p)] == ["https://vms.example.com"]


def test_human_list_marks_the_default(isolated_profile: Path) -> None:
    p = isolated_profile
    assert "No servers yet" in ok(p, "servers", "list")
    ok(p, "servers", "add", "Office", "vms.example.com", "--login", "anna")
    out = ok(
        p, "servers", "add", "Lab", "bücher.example:8443", "--login", "bob", "--kind", "zoneminder"
    )
    assert out == "Added Lab: https://xn--bcher-kva.example:8443 (https://bücher.example:8443)\n"
    lines = ok(p, "servers", "list").splitlines()
    assert lines[0].split() == ["NAME", "URL", "LOGIN", "KIND", "TRUST", "PASSWORD", "STORED"]
    assert lines[1].split() == [
        "*",
        "Office",
        "https://vms.example.com",
        "anna",
        "native",
        "system",
        "unknown",
    ]
    assert lines[2].split()[:2] == ["Lab", "https://bücher.example:8443"]
    assert listed(p)[1]["url"] == "https://xn--bcher-kva.example:8443"


def test_default_switches_and_names_ignore_case(isolated_profile: Path) -> None:
    p = isolated_profile
    ok(p, "servers", "add", "Office", "vms.example.com", "--login", "anna")
    ok(p, "servers", "add", "Lab", "lab.example.com", "--login", "anna")
    assert "already exists" in fails(p, "servers", "add", "LAB", "x.example", "--login", "a")
    assert "Lab is now the default" in ok(p, "servers", "default", "lab")
    assert [s["default"] for s in listed(p)] == [False, True]
    ok(p, "servers", "remove", "OFFICE")
    assert "no server named 'Nowhere'" in fails(p, "servers", "default", "Nowhere")
    assert "no server named" in fails(p, "servers", "remove", "Nowhere")


def test_the_sole_server_can_be_removed(isolated_profile: Path) -> None:
    p = isolated_profile
    ok(p, "servers", "add", "Office", "vms.example.com", "--login", "anna")
    ok(p, "servers", "remove", "Office")
    assert listed(p) == []


def test_edit_changes_fields_and_trust(isolated_profile: Path, tmp_path: Path) -> None:
    p = isolated_profile
    ca = trustme.CA()
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    ok(p, "servers", "add", "Office", "vms.example.com", "--login", "anna", "--ca-file", str(pem))
    assert listed(p)[0]["trust"] == {"mode": "ca-file", "ca_file": str(pem), "pin_sha256": None}

    ok(
        p,
        "servers",
        "edit",
        "office",
        "--name",
        "HQ",
        "--url",
        "HQ.example.com:8443/",
        "--login",
        "bob",
    )
    ok(p, "servers", "edit", "HQ", "--kind", "zoneminder", "--system-ca")
    [hq] = listed(p)
    assert (hq["name"], hq["url"], hq["login"], hq["kind"], hq["default"]) == (
        "HQ",
        "https://hq.example.com:8443",
        "bob",
        "zoneminder",
        True,
    )
    assert hq["trust"]["mode"] == "system"

    assert "nothing to change" in fails(p, "servers", "edit", "HQ")
    assert "does not exist" in fails(p, "servers", "edit", "HQ", "--ca-file", str(tmp_path / "x"))
    (tmp_path / "notes.txt").write_text("hello")
    assert "no PEM" in fails(p, "servers", "edit", "HQ", "--ca-file", str(tmp_path / "notes.txt"))
    assert "only connects over https" in fails(p, "servers", "edit", "HQ", "--url", "ftp://x")
    fails(p, "servers", "edit", "HQ", "--ca-file", str(pem), "--system-ca", code=2)
    assert listed(p) == [hq]


@pytest.mark.parametrize(
    "args",
    [
        ["servers"],
        ["servers", "bogus"],
        ["servers", "add", "Office"],
        ["servers", "add", "Office", "vms.example.com"],
        ["servers", "add", "Office", "vms.example.com", "--login", "a", "--kind", "milestone"],
        ["password", "set"],
        ["password", "set", "Office", "hunter2-on-argv"],
    ],
)
def test_usage_errors_exit_2(isolated_profile: Path, args: list[str]) -> None:
    out = run(isolated_profile, *args)
    assert out.returncode == 2
    assert "usage:" in out.stderr
    assert not config_file(isolated_profile).exists()


# --- damaged files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"schema_version = 1\n[[connections]\nname = 'x'\n", b"schema_version = 7\n", b"\x00\xff"],
)
def test_corrupt_file_is_reported_in_one_line_and_left_alone(
    isolated_profile: Path, content: bytes
) -> None:
    p = isolated_profile
    path = config_file(p)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    commands = [
        ["servers", "list", "--json"],
        ["servers", "add", "Lab", "lab.example.com", "--login", "anna"],
    ]
    if content.startswith(b"schema_version = 1"):  # every kind of command, once is enough
        commands += [["servers", "list"], ["servers", "remove", "x"], ["password", "forget", "x"]]
    for args in commands:
        err = fails(p, *args)
        assert err.startswith(f"vms-tray: {path}: ")
        assert "vms-tray servers reset" in err
    assert path.read_bytes() == content


def test_reset_moves_the_file_aside_and_starts_empty(isolated_profile: Path) -> None:
    p = isolated_profile
    assert "already empty" in ok(p, "servers", "reset")
    path = config_file(p)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is [not toml")
    out = ok(p, "servers", "reset")
    backups = list(path.parent.glob("servers.toml.*.bak"))
    assert len(backups) == 1
    assert str(backups[0]) in out
    assert backups[0].read_bytes() == b"this is [not toml"
    assert listed(p) == []
    ok(p, "servers", "add", "Office", "vms.example.com", "--login", "anna")
    assert [s["name"] for s in listed(p)] == ["Office"]


# --- concurrent writers --------------------------------------------------------------------------


def test_concurrent_cli_writers_lose_no_change(isolated_profile: Path) -> None:
    p = isolated_profile
    ok(p, "servers", "add", "Office", "vms.example.com", "--login", "anna")
    names = [f"Site{i}" for i in range(8)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "vms_tray", "servers", "add", n, f"{n}.example", "--login", "x"],
            env=cli_env(p),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in names
    ]
    # One more writer changing something else at the same time.
    procs.append(
        subprocess.Popen(
            [sys.executable, "-m", "vms_tray", "servers", "edit", "Office", "--login", "bob"],
            env=cli_env(p),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    )
    for proc in procs:
        _, err = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0, err
    servers = listed(p)
    assert sorted(s["name"] for s in servers) == sorted(["Office", *names])
    assert [s["name"] for s in servers if s["default"]] == ["Office"]
    assert servers[0]["login"] == "bob"
    leftovers = sorted(f.name for f in config_file(p).parent.iterdir())
    assert leftovers == ["servers.toml", "servers.toml.lock"]


# --- trust ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ref(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RefServer]:
    server = RefServer.start(tmp_path_factory.mktemp("ref"))
    try:
        yield server
    finally:
        server.stop()


def _pin(profile: Path) -> str | None:
    pin: str | None = listed(profile)[0]["trust"]["pin_sha256"]
    return pin


def test_trust_refuses_to_pin_without_a_terminal_or_yes(
    isolated_profile: Path, ref: RefServer
) -> None:
    p = isolated_profile
    ok(p, "servers", "add", "Ref", ref.url, "--login", "anna")
    out = run(p, "servers", "trust", "Ref")
    assert out.returncode == 1
    assert ref.fingerprint in out.stdout
    assert "--yes" in out.stderr and out.stderr.count("\n") == 1
    assert listed(p)[0]["trust"]["mode"] == "system"


def test_trust_yes_pins_the_certificate(isolated_profile: Path, ref: RefServer) -> None:
    p = isolated_profile
    ok(p, "servers", "add", "Ref", ref.url, "--login", "anna")
    out = ok(p, "servers", "trust", "ref", "--yes")
    assert ref.fingerprint in out
    assert listed(p)[0]["trust"] == {
        "mode": "pinned",
        "ca_file": None,
        "pin_sha256": ref.fingerprint,
    }
    assert "already trusts" in ok(p, "servers", "trust", "Ref")
    assert f"pinned {ref.fingerprint[:11]}" in ok(p, "servers", "list")
    # Same server under another name of it: the pin stays, and the user is told how to re-pin.
    out = ok(p, "servers", "edit", "Ref", "--url", f"localhost:{ref.port}")
    assert "stays pinned" in out
    assert "already trusts" in ok(p, "servers", "trust", "Ref")


def test_the_suggested_trust_command_pastes_for_a_name_with_spaces_and_cyrillic(
    isolated_profile: Path, ref: RefServer
) -> None:
    p = isolated_profile
    name = "Склад №2 камеры"
    ok(p, "servers", "add", name, ref.url, "--login", "anna")
    ok(p, "servers", "trust", name, "--yes")
    out = ok(p, "servers", "edit", name, "--url", f"localhost:{ref.port}")
    suggested = out.rsplit("run: ", 1)[1].strip()
    assert suggested == "vms-tray servers trust 'Склад №2 камеры'"
    program, *args = shlex.split(suggested)
    assert program == "vms-tray"
    assert "already trusts" in ok(p, *args)


def test_trust_with_an_expected_fingerprint(isolated_profile: Path, ref: RefServer) -> None:
    p = isolated_profile
    ok(p, "servers", "add", "Ref", ref.url, "--login", "anna")
    wrong = ":".join(["00"] * 32)
    assert "not the expected" in fails(p, "servers", "trust", "Ref", "--fingerprint", wrong)
    assert _pin(p) is None
    given = ref.fingerprint.replace(":", "").lower()
    ok(p, "servers", "trust", "Ref", "--fingerprint", given)
    assert _pin(p) == ref.fingerprint


@pytest.mark.parametrize(("answer", "pinned"), [("yes\n", True), ("\n", False)])
def test_trust_asks_on_a_terminal(
    isolated_profile: Path, ref: RefServer, answer: str, pinned: bool
) -> None:
    p = isolated_profile
    ok(p, "servers", "add", "Ref", ref.url, "--login", "anna")
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vms_tray", "servers", "trust", "Ref"],
            env=cli_env(p),
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.write(master, answer.encode())
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        os.close(slave)
        with contextlib.suppress(OSError):
            os.close(master)
    assert "Trust this certificate? [y/N]" in out
    assert ref.fingerprint in out
    assert proc.returncode == (0 if pinned else 1), err
    assert _pin(p) == (ref.fingerprint if pinned else None)


def test_trust_of_an_unreachable_server_fails_in_one_line(isolated_profile: Path) -> None:
    p = isolated_profile
    ok(p, "servers", "add", "Gone", "127.0.0.1:9", "--login", "anna")
    err = fails(p, "servers", "trust", "Gone", "--yes")
    assert "127.0.0.1:9" in err


def test_config_lives_under_xdg_config_home_without_a_profile(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "unused")
    del env["VMS_TRAY_PROFILE"]
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    out = run_cli(env, "servers", "add", "Office", "vms.example.com", "--login", "anna")
    assert out.returncode == 0, out.stderr
    path = tmp_path / "xdg" / "vms-tray" / "servers.toml"
    assert 'url = "https://vms.example.com"' in path.read_text()
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not (tmp_path / "unused").exists()


# --- managed servers (the administrator's file) -------------------------------------------------

MANAGED = """schema_version = 1
[[connections]]
name = "Plant"
url = "https://plant.example.com"
login = "operator"
default = true
"""


def system_servers(profile: Path, text: str = MANAGED) -> Path:
    path = profile / "system" / "servers.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_managed_servers_are_listed_and_cannot_be_changed(isolated_profile: Path) -> None:
    path = system_servers(isolated_profile)
    ok(isolated_profile, "servers", "add", "Mine", "mine.example.com", "--login", "me")
    rows = {r["name"]: r for r in listed(isolated_profile)}
    assert rows["Plant"]["managed"] is True and rows["Plant"]["managed_by"] == str(path)
    assert rows["Mine"]["managed"] is False and rows["Mine"]["default"] is True
    text = ok(isolated_profile, "servers", "list")
    assert "M = managed by the administrator" in text
    for args in (
        ("edit", "Plant", "--login", "x"),
        ("edit", "Plant", "--name", "X"),
        ("remove", "Plant"),
        ("default", "Plant"),
    ):
        err = fails(isolated_profile, "servers", *args)
        assert "managed by the administrator" in err and str(path) in err
    err = fails(isolated_profile, "servers", "add", "plant", "p.example.com", "--login", "me")
    assert str(path) in err
    assert "Plant" not in config_file(isolated_profile).read_text()
    ok(isolated_profile, "servers", "remove", "Mine")  # the user's own default can go
    assert [r["name"] for r in listed(isolated_profile)] == ["Plant"]


def test_a_managed_namesake_wins_and_the_listing_says_so(isolated_profile: Path) -> None:
    ok(isolated_profile, "servers", "add", "plant", "mine.example.com", "--login", "me")
    system_servers(isolated_profile)
    out = run(isolated_profile, "servers", "list", "--json")
    assert out.returncode == 0
    assert [(r["name"], r["url"]) for r in json.loads(out.stdout)] == [
        ("Plant", "https://plant.example.com")
    ]
    assert out.stderr.count("\n") == 1 and "hidden by the administrator" in out.stderr


def test_a_malformed_system_file_is_one_line_and_ignored(isolated_profile: Path) -> None:
    ok(isolated_profile, "servers", "add", "Mine", "mine.example.com", "--login", "me")
    path = system_servers(isolated_profile, "schema_version = [")
    out = run(isolated_profile, "servers", "list", "--json")
    assert out.returncode == 0
    assert [r["name"] for r in json.loads(out.stdout)] == ["Mine"]
    assert out.stderr.count("\n") == 1 and str(path) in out.stderr
