"""vms-tray's own files and folders on a real file system: private folders made and checked
through their descriptor, nothing written through a link, configs read only when they are
regular files of a sane size, and files replaced atomically."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from vms_tray import safefs
from vms_tray.safefs import UnsafePath


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


# --- private folders -------------------------------------------------------------------------


def test_a_private_folder_is_made_0700_with_its_parents(tmp_path: Path) -> None:
    run = tmp_path / "profile" / "run"
    with safefs.opened_private_dir(run) as folder:
        assert folder.path == run and folder.fd is not None
        assert os.path.samestat(os.fstat(folder.fd), os.stat(run))
    assert mode(run) == 0o700


def test_a_looser_private_folder_is_tightened(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir(mode=0o755)
    run.chmod(0o755)
    fd = safefs.private_dir(run)
    os.close(fd)
    assert mode(run) == 0o700


def test_a_link_in_place_of_the_folder_is_refused_and_its_target_untouched(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    run = tmp_path / "run"
    run.symlink_to(shared)
    with pytest.raises(UnsafePath) as info:
        safefs.private_dir(run, what="the run folder")
    assert info.value.path == str(run)
    assert info.value.problem == "is a symbolic link, not a folder"
    assert "the run folder must be yours alone" in str(info.value)
    assert mode(shared) == 0o755


def test_a_file_in_place_of_the_folder_or_of_a_parent_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "profile"
    blocker.write_text("")
    with pytest.raises(UnsafePath, match="is not a folder") as info:
        safefs.private_dir(blocker / "run")
    assert info.value.path == str(blocker)
    with pytest.raises(UnsafePath, match="is not a folder") as info:
        safefs.private_dir(blocker)
    assert info.value.path == str(blocker)


def test_open_dir_wants_an_existing_real_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        safefs.open_dir(tmp_path / "missing")
    (tmp_path / "file").write_text("")
    with pytest.raises(UnsafePath, match="is not a folder"):
        safefs.open_dir(tmp_path / "file")
    fd = safefs.open_dir(tmp_path)
    try:
        assert stat.S_ISDIR(os.fstat(fd).st_mode)
    finally:
        os.close(fd)


def test_what_makes_a_folder_not_ours(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    (tmp_path / "link").symlink_to(tmp_path)
    assert safefs.dir_problem(os.lstat(tmp_path)) is None
    assert safefs.dir_problem(os.lstat(tmp_path / "file")) == "is not a folder"
    assert safefs.dir_problem(os.lstat(tmp_path / "link")) == "is a symbolic link, not a folder"
    if os.getuid() == 0:  # only root can give a folder away
        theirs = tmp_path / "theirs"
        theirs.mkdir()
        os.chown(theirs, 12345, 12345)
        assert safefs.dir_problem(os.lstat(theirs)) == "belongs to another user (uid 12345)"


def test_files_in_a_private_folder_are_written_0600_never_through_a_link(tmp_path: Path) -> None:
    victim = tmp_path / "thesis.txt"
    victim.write_text("four years of work\n")
    run = tmp_path / "run"
    with safefs.opened_private_dir(run) as folder:
        folder.write("daemon.pid", b"1234\n")
        folder.write("daemon.pid", b"42\n")  # replaced, not appended
        (run / "daemon.lock").symlink_to(victim)
        assert folder.is_symlink("daemon.lock") and not folder.is_symlink("daemon.pid")
        assert not folder.is_symlink("missing")
        with pytest.raises(UnsafePath, match="is a symbolic link") as info:
            folder.write("daemon.lock", b"1234\n")
    assert info.value.path == str(run / "daemon.lock")
    assert (run / "daemon.pid").read_bytes() == b"42\n" and mode(run / "daemon.pid") == 0o600
    assert victim.read_text() == "four years of work\n"


# --- reading a config ------------------------------------------------------------------------


def test_a_regular_file_is_read_also_behind_a_link(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "servers.toml"
    real.parent.mkdir()
    real.write_bytes(b"schema_version = 1\n")
    link = tmp_path / "servers.toml"
    link.symlink_to(real)
    assert safefs.read_regular(link, safefs.CONFIG_LIMIT) == b"schema_version = 1\n"


def test_a_file_at_the_limit_is_read_one_byte_more_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "settings.toml"
    f.write_bytes(b"x" * 100)
    assert safefs.read_regular(f, 100) == b"x" * 100
    f.write_bytes(b"x" * 101)
    with pytest.raises(UnsafePath, match="is larger than 100 bytes"):
        safefs.read_regular(f, 100)
    f.write_bytes(b"x" * (safefs.CONFIG_LIMIT + 1))
    with pytest.raises(UnsafePath, match="is larger than 1 MiB"):
        safefs.read_regular(f, safefs.CONFIG_LIMIT)


def test_a_fifo_or_a_device_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it must not wait for a writer
    with pytest.raises(UnsafePath, match="is not a regular file"):
        safefs.read_regular(fifo, safefs.CONFIG_LIMIT)
    zero = tmp_path / "servers.toml"
    zero.symlink_to("/dev/zero")
    with pytest.raises(UnsafePath, match="is not a regular file") as info:
        safefs.read_regular(zero, safefs.CONFIG_LIMIT)
    assert str(info.value).startswith(f"{zero} is not a regular file: ")


def test_a_missing_file_is_reported_as_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        safefs.read_regular(tmp_path / "servers.toml", safefs.CONFIG_LIMIT)


# --- replacing a file ------------------------------------------------------------------------


def test_write_atomic_replaces_the_file_with_its_mode_and_leaves_no_temporary(
    tmp_path: Path,
) -> None:
    f = tmp_path / "servers.toml"
    f.write_text("old\n")
    f.chmod(0o644)
    safefs.write_atomic(f, b"new\n", 0o600)
    assert f.read_bytes() == b"new\n" and mode(f) == 0o600
    assert safefs.atomic_temps(f) == []


def test_a_failed_replace_keeps_the_old_file_and_removes_its_temporary(tmp_path: Path) -> None:
    target = tmp_path / "autostart.desktop"
    target.mkdir()  # a folder where the file should go: the rename fails
    with pytest.raises(OSError):
        safefs.write_atomic(target, b"[Desktop Entry]\n", 0o644)
    assert target.is_dir() and safefs.atomic_temps(target) == []


def test_temporaries_left_by_a_writer_that_died_are_found(tmp_path: Path) -> None:
    f = tmp_path / "servers.toml"
    left = [tmp_path / ".servers.toml.abc123.tmp", tmp_path / ".servers.toml.zzz999.tmp"]
    for p in left:
        p.write_text("half")
    (tmp_path / ".other.toml.abc123.tmp").write_text("not ours")
    assert safefs.atomic_temps(f) == left
