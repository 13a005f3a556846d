"""A writer killed at any step of a config write leaves the old file or the new one, never a mix.

No hook in the production code: the writer is a real ``ConnectionStore.update`` in a child
process whose ``os`` functions are wrapped (in the child only) to report the step and then wait
on stdin; the test SIGKILLs it there.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vms_tray.connections.rules import ConnectionList
from vms_tray.connections.store import ConnectionStore

pytestmark = pytest.mark.integration

TIMEOUT = 30

WRITER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from vms_tray.connections.store import ConnectionStore

    path, step = Path(sys.argv[1]), sys.argv[2]
    real_write, real_fsync, real_replace = os.write, os.fsync, os.replace

    def is_temp(fd):
        return os.readlink(f"/proc/self/fd/{fd}").endswith(".tmp")

    def stop_here():
        print("AT", step, flush=True)
        sys.stdin.read()  # the test kills us while we wait

    def write(fd, data):
        if step == "partial-temp" and is_temp(fd):
            real_write(fd, bytes(data[: len(data) // 2]))
            stop_here()
        return real_write(fd, data)

    def fsync(fd):
        if step == "temp-written" and is_temp(fd):
            stop_here()
        real_fsync(fd)
        if step == "temp-synced" and is_temp(fd):
            stop_here()

    def replace(src, dst):
        if step == "before-rename":
            stop_here()
        real_replace(src, dst)
        if step == "after-rename":
            stop_here()

    os.write, os.fsync, os.replace = write, fsync, replace
    ConnectionStore(path).update(lambda lst: lst.add("Lab", "lab.example.com", "bob"))
    print("DONE", flush=True)
    """
)

STEPS_KEEPING_OLD = ["partial-temp", "temp-written", "temp-synced", "before-rename"]
STEPS_WITH_NEW = ["after-rename"]


def old_list() -> ConnectionList:
    return ConnectionList().add("Office", "vms.example.com", "anna")


def kill_writer_at(path: Path, step: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), step],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        line = proc.stdout.readline()  # bounded: the process either reaches the step or exits
        if line.strip() != f"AT {step}":
            proc.kill()
            _, err = proc.communicate(timeout=TIMEOUT)
            pytest.fail(f"writer did not stop at {step}: {line!r} {err}")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=TIMEOUT)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("step", STEPS_KEEPING_OLD + STEPS_WITH_NEW)
def test_killed_writer_leaves_a_whole_file_and_the_next_write_works(
    tmp_path: Path, step: str
) -> None:
    path = tmp_path / "cfg" / "servers.toml"
    store = ConnectionStore(path)
    store.update(lambda lst: old_list())
    old_bytes = path.read_bytes()

    kill_writer_at(path, step)

    after = store.load()  # parses: never a partial file
    if step in STEPS_KEEPING_OLD:
        assert after == old_list()
        assert path.read_bytes() == old_bytes
    else:
        assert after.names() == ("Office", "Lab")

    # The lock died with the writer; its temporary file does not confuse the next one.
    store.update(lambda lst: lst.add("Home", "home.example.com", "carol"))
    final = store.load()
    assert final.names()[-1] == "Home"
    assert final.get("Office").default
    assert sorted(p.name for p in path.parent.iterdir()) == ["servers.toml", "servers.toml.lock"]
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)


def test_a_partial_temp_file_is_really_left_behind_by_the_kill(tmp_path: Path) -> None:
    """Guards the test above: the kill does leave half a file for the next writer to clean."""
    path = tmp_path / "cfg" / "servers.toml"
    ConnectionStore(path).update(lambda lst: old_list())
    elsewhere = ConnectionStore(tmp_path / "other" / "servers.toml")
    elsewhere.update(lambda lst: old_list().add("Lab", "lab.example.com", "bob"))
    complete = elsewhere.path.read_bytes()
    kill_writer_at(path, "partial-temp")
    [temp] = [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert temp.read_bytes() == complete[: len(complete) // 2]
