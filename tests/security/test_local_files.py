"""vms-tray's own files against links, devices and giants (issue 14 item 8).

Real ``vms-tray`` processes in a profile prepared the way an attacker (or an accident) would:
each refusal is one line on stderr naming the path, and nothing is written through a link.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from vms_tray import paths
from vms_tray.connections.store import ConnectionStore

pytestmark = pytest.mark.security

TIMEOUT = 60


def _limited_memory() -> None:
    # Reading /dev/zero to the end took 5.2 GB in 3 s: a bounded child fails instead of the host.
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def vms_tray(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    env.pop("DISPLAY", None)
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    return subprocess.run(
        [sys.executable, "-m", "vms_tray", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        preexec_fn=_limited_memory,
    )


def one_line_failure(r: subprocess.CompletedProcess[str], *words: str) -> str:
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1, r.stderr
    assert "unexpected" not in r.stderr
    for word in words:
        assert word in r.stderr, (word, r.stderr)
    return r.stderr


# --- servers.toml ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "oversized"])
def test_servers_toml_that_is_no_config_is_refused_at_once(kind: str) -> None:
    config = paths.config_file()
    config.parent.mkdir(parents=True)
    if kind == "dev-zero":
        config.symlink_to("/dev/zero")
        problem = "not a regular file"
    elif kind == "fifo":
        os.mkfifo(config)  # opening it used to wait for a writer forever
        problem = "not a regular file"
    else:
        config.write_bytes(b"schema_version = 1\n" + b"# padding\n" * 110_000)
        problem = "larger than 1 MiB"
    one_line_failure(vms_tray("servers", "list"), str(config), problem)


def test_servers_toml_behind_a_symlink_to_a_regular_file_still_works(tmp_path: Path) -> None:
    """Dotfile managers link the config: a link to a plain file is fine."""
    real = tmp_path / "dotfiles" / "servers.toml"
    real.parent.mkdir()
    ConnectionStore(real).update(lambda lst: lst.add("office", "https://vms.example:8443", "anna"))
    config = paths.config_file()
    config.parent.mkdir(parents=True)
    config.symlink_to(real)
    r = vms_tray("servers", "list")
    assert r.returncode == 0, r.stderr
    assert "office" in r.stdout


# --- the daemon's own files: run folder, daemon.pid, the lock, the log ----------------------


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file of the user's that a link in vms-tray's folders points to."""
    target = tmp_path / "thesis.txt"
    target.write_text("four years of work\n")
    return target


@pytest.mark.parametrize("name", ["daemon.pid", "daemon.lock"])
def test_run_folder_files_are_not_written_through_symlinks(name: str, victim: Path) -> None:
    run = paths.runtime_dir()
    run.mkdir(parents=True, mode=0o700)
    (run / name).symlink_to(victim)
    one_line_failure(vms_tray("run", "--headless"), str(run / name), "symbolic link")
    assert victim.read_text() == "four years of work\n"


def test_log_is_not_written_through_a_symlink(victim: Path) -> None:
    log_dir = paths.log_dir()
    log_dir.mkdir(parents=True, mode=0o700)
    (log_dir / "vms-tray.log").symlink_to(victim)
    one_line_failure(vms_tray("run", "--headless"), str(log_dir / "vms-tray.log"), "symbolic link")
    assert victim.read_text() == "four years of work\n"


def test_log_folder_behind_a_symlink_is_refused_and_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared-folder"
    shared.mkdir()
    shared.chmod(0o755)
    log_dir = paths.log_dir()
    log_dir.parent.mkdir(parents=True)
    log_dir.symlink_to(shared)
    one_line_failure(vms_tray("run", "--headless"), str(log_dir), "symbolic link")
    assert (shared.stat().st_mode & 0o777) == 0o755
    assert list(shared.iterdir()) == []


def test_start_up_failure_names_the_path_and_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A profile whose folder is a file: was 'unexpected FileExistsError'."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("VMS_TRAY_PROFILE", str(blocker))
    one_line_failure(
        vms_tray("run", "--headless"), str(blocker), "not a folder", "VMS_TRAY_PROFILE"
    )
