"""The TOML store of the connection list: codec, atomic locked writes, reset."""

from __future__ import annotations

import stat
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import filelock
import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from vms_tray import paths
from vms_tray.connections.model import Trust
from vms_tray.connections.rules import ConnectionList
from vms_tray.connections.store import ConnectionStore, _dump, _parse
from vms_tray.errors import ConfigError, ConfigWriteError, DefaultProtected, UnknownConnection

PIN = ":".join(["AB"] * 32)


def two() -> ConnectionList:
    return ConnectionList().add("Office", "vms.example.com", "anna").add("Lab", "lab", "bob")


# --- the store ---------------------------------------------------------------------------------


def test_missing_file_is_an_empty_list(tmp_path: Path) -> None:
    assert ConnectionStore(tmp_path / "nothing.toml").load() == ConnectionList()


def test_round_trip_and_file_modes(isolated_profile: Path) -> None:
    store = ConnectionStore()
    assert store.path == paths.config_file()
    saved = store.update(lambda lst: two().edit("Lab", trust=Trust("pinned", None, PIN)))
    assert store.load() == saved
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    text = store.path.read_text()
    assert "schema_version = 1" in text
    assert PIN in text


def test_store_shorthands(tmp_path: Path) -> None:
    store = ConnectionStore(tmp_path / "servers.toml")
    assert store.default() is None
    store.update(lambda lst: two())
    assert store.get("LAB").name == "Lab"
    assert store.default() == store.get("Office")
    # last_used is written the way the daemon writes it: through update.
    assert store.update(lambda lst: lst.with_last_used("lab")).last_used == "Lab"
    assert store.load().preferred() == store.get("Lab")
    assert store.update(lambda lst: lst.with_last_used(None)).last_used is None
    with pytest.raises(UnknownConnection):
        store.update(lambda lst: lst.with_last_used("Nowhere"))
    assert store.load().last_used is None


def test_private_config_dir_is_tightened(isolated_profile: Path) -> None:
    paths.config_dir().mkdir(parents=True, mode=0o755)
    paths.config_dir().chmod(0o755)
    ConnectionStore().update(lambda lst: lst.add("A", "a.example", "x"))
    assert stat.S_IMODE(paths.config_dir().stat().st_mode) == 0o700


def test_update_that_raises_writes_nothing(tmp_path: Path) -> None:
    store = ConnectionStore(tmp_path / "servers.toml")
    store.update(lambda lst: two())
    before = store.path.read_bytes()
    with pytest.raises(DefaultProtected):
        store.update(lambda lst: lst.remove("Office"))
    assert store.path.read_bytes() == before


def test_unchanged_list_is_not_rewritten(tmp_path: Path) -> None:
    store = ConnectionStore(tmp_path / "servers.toml")
    store.update(lambda lst: two())
    inode = store.path.stat().st_ino
    store.update(lambda lst: lst.set_default("Office"))
    assert store.path.stat().st_ino == inode


def test_hand_edited_non_canonical_values_are_normalised_on_load(tmp_path: Path) -> None:
    path = tmp_path / "servers.toml"
    path.write_text(
        'schema_version = 1\n[[connections]]\nname = " Office "\nurl = "VMS.example.com/"\n'
        'login = "anna"\ndefault = true\n'
    )
    c = ConnectionStore(path).load().get("office")
    assert (c.name, c.url, c.kind, c.trust) == (
        "Office",
        "https://vms.example.com",
        "native",
        Trust(),
    )


_ONE = '[[connections]]\nname = "A"\nurl = "https://a.example"\nlogin = "x"\ndefault = true\n'


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\xff\xfe garbage", "not UTF-8"),
        (b"x = " + b"[" * 30000 + b"]" * 30000 + b"\n", "nested too deeply"),
        (b"schema_version = 1\n[[connections]\n", "not valid TOML"),
        (b"", "no 'schema_version'"),
        (b"schema_version = '1'\n", "must be an integer"),
        (b"schema_version = 2\n", "newer vms-tray"),
        (b"schema_version = 1\nextra = 1\n", "unknown key 'extra'"),
        (b"schema_version = 1\nconnections = 3\n", "must be a list"),
        (b"schema_version = 1\nconnections = [1]\n", "not a table"),
        (("schema_version = 1\n" + _ONE.replace('login = "x"\n', "")).encode(), "no 'login'"),
        (("schema_version = 1\n" + _ONE.replace("https", "http")).encode(), "https"),
        (("schema_version = 1\n" + _ONE + _ONE).encode(), "two servers are named"),
        (("schema_version = 1\n" + _ONE.replace("true", "false")).encode(), "no server is marked"),
        (("schema_version = 1\nlast_used = 'B'\n" + _ONE).encode(), "last_used names no server"),
        (("schema_version = 1\n" + _ONE + "pwd = 'x'\n").encode(), "unknown key 'pwd'"),
        (("schema_version = 1\n" + _ONE + "[connections.trust]\nmode = 'none'\n").encode(), "none"),
        (
            ("schema_version = 1\n" + _ONE + "[connections.trust]\nmode = 'pinned'\n").encode(),
            "fingerprint",
        ),
    ],
)
def test_corrupt_or_invalid_file_raises_and_is_left_alone(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "servers.toml"
    path.write_bytes(content)
    store = ConnectionStore(path)
    with pytest.raises(ConfigError) as info:
        store.load()
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert problem in message
    assert "vms-tray servers reset" in message
    assert "\n" not in message
    with pytest.raises(ConfigError):
        store.update(lambda lst: lst.add("B", "b.example", "y"))
    assert path.read_bytes() == content


_odd = st.one_of(st.booleans(), st.integers(-1, 2), st.just(""), st.lists(st.just("a"), max_size=1))
_names_in_file = st.one_of(st.sampled_from(["A", "a", " B ", "Cam", "cam "]), _odd)
_urls_in_file = st.one_of(
    st.sampled_from(["https://a.example", "b.example/", "HTTPS://C.example:443"]),
    st.sampled_from(["http://x.example", "https://u:p@x.example"]),
    _odd,
)
_trust_tables = st.fixed_dictionaries(
    {},
    optional={
        "mode": st.one_of(st.sampled_from(["system", "ca-file", "pinned", "none"]), _odd),
        "ca_file": st.one_of(st.sampled_from(["/etc/ca.pem", "ca.pem"]), _odd),
        "pin_sha256": st.one_of(st.sampled_from([PIN, PIN.lower(), "AB"]), _odd),
        "x": _odd,
    },
)
_connection_tables = st.fixed_dictionaries(
    {"name": _names_in_file, "url": _urls_in_file, "login": st.sampled_from(["anna", " ", "b"])},
    optional={
        "default": st.one_of(st.booleans(), _odd),
        "kind": st.one_of(st.sampled_from(["native", "zoneminder", "milestone"]), _odd),
        "trust": st.one_of(_trust_tables, _odd),
        "x": _odd,
    },
)
_documents = st.fixed_dictionaries(
    {"schema_version": st.sampled_from([1, 1, 1, 1, 1, 1, 1, 1, 2, 0, "1", True])},
    optional={
        "connections": st.one_of(st.lists(_connection_tables, max_size=4), _odd),
        "last_used": st.one_of(_names_in_file, _odd),
    },
)


@given(_documents)
@settings(max_examples=400)
def test_any_hand_edit_loads_or_raises_config_error(doc: dict[str, Any]) -> None:
    data = tomli_w.dumps(doc).encode()
    path = Path("servers.toml")
    try:
        lst = _parse(path, data)
    except ConfigError as exc:
        assert str(exc).startswith("servers.toml: ")
        assert "\n" not in str(exc)
        return
    assert _parse(path, _dump(lst)) == lst


def test_reset_moves_the_file_aside_with_a_timestamp(tmp_path: Path) -> None:
    when = datetime(2026, 11, 27, 6, 1, 2, tzinfo=UTC)
    store = ConnectionStore(tmp_path / "servers.toml", clock=lambda: when)
    assert store.reset() is None
    store.path.write_text("not toml [")
    first = store.reset()
    assert first == tmp_path / "servers.toml.20261127T060102Z.bak"
    assert first.read_text() == "not toml ["
    assert not store.path.exists()
    assert store.load() == ConnectionList()
    store.path.write_text("again [")
    second = store.reset()
    assert second == tmp_path / "servers.toml.20261127T060102Z-1.bak"
    assert first.read_text() == "not toml ["


def test_stale_temp_files_are_removed_by_the_next_writer(tmp_path: Path) -> None:
    store = ConnectionStore(tmp_path / "servers.toml")
    stale = tmp_path / ".servers.toml.abc123.tmp"
    stale.write_text("half a file")
    store.update(lambda lst: lst.add("A", "a.example", "x"))
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["servers.toml", "servers.toml.lock"]


def test_a_lock_held_too_long_fails_cleanly_and_changes_nothing(tmp_path: Path) -> None:
    store = ConnectionStore(tmp_path / "servers.toml", lock_timeout=0.2)
    store.update(lambda lst: two())
    before = store.path.read_bytes()
    stuck_writer = filelock.FileLock(tmp_path / "servers.toml.lock")
    with stuck_writer, pytest.raises(ConfigWriteError, match=r"stayed locked .* try again"):
        store.update(lambda lst: lst.remove("Lab"))
    assert store.path.read_bytes() == before
    assert store.update(lambda lst: lst.remove("Lab")).names() == ("Office",)


def test_symlinked_config_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "servers.toml"
    real.parent.mkdir()
    link_dir = tmp_path / "cfg"
    link_dir.mkdir()
    (link_dir / "servers.toml").symlink_to(real)
    store = ConnectionStore(link_dir / "servers.toml")
    store.update(lambda lst: lst.add("A", "a.example", "x"))
    assert (link_dir / "servers.toml").is_symlink()
    assert ConnectionStore(real).load().names() == ("A",)


def test_concurrent_updates_in_threads_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "servers.toml"
    errors: list[BaseException] = []

    def add(i: int) -> None:
        try:
            # A store per thread, as the daemon and a dialog would each have.
            ConnectionStore(path).update(lambda lst: lst.add(f"S{i}", f"s{i}.example", "x"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    lst = ConnectionStore(path).load()
    assert sorted(lst.names()) == sorted(f"S{i}" for i in range(12))
    assert len([c for c in lst if c.default]) == 1
