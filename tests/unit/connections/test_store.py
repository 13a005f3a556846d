"""Connection-list rules (examples and a rule-based state machine) and the TOML store."""

from __future__ import annotations

import os
import stat
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import filelock
import pytest
import tomli_w
import trustme
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    precondition,
    rule,
)

from vms_tray import paths
from vms_tray.connections.model import Connection, Trust
from vms_tray.connections.store import (
    ConnectionList,
    ConnectionStore,
    _dump,
    _parse,
    ca_file_trust,
    name_key,
)
from vms_tray.errors import (
    ConfigError,
    ConfigWriteError,
    DefaultProtected,
    DuplicateName,
    InvalidInput,
    InvalidName,
    InvalidURL,
    UnknownConnection,
)

PIN = ":".join(["AB"] * 32)


def two() -> ConnectionList:
    return ConnectionList().add("Office", "vms.example.com", "anna").add("Lab", "lab", "bob")


# --- rules, by example ----------------------------------------------------------------------


def test_first_connection_becomes_the_default_and_later_ones_do_not() -> None:
    lst = two()
    assert lst.get("office").default
    assert not lst.get("lab").default
    assert lst.default() == lst.get("Office")
    assert lst.names() == ("Office", "Lab")


def test_add_normalises_and_trims() -> None:
    lst = ConnectionList().add("  Office ", " VMS.example.com/ ", " anna ")
    c = lst.get("OFFICE")
    assert (c.name, c.url, c.login, c.kind, c.trust) == (
        "Office",
        "https://vms.example.com",
        "anna",
        "native",
        Trust(),
    )


def test_add_can_make_the_new_connection_the_default() -> None:
    lst = two().add("Home", "home.example.com", "anna", make_default=True)
    assert [c.name for c in lst if c.default] == ["Home"]


def test_the_list_it_was_called_on_never_changes() -> None:
    lst = two()
    before = lst.connections
    lst.add("Home", "home", "x")
    lst.remove("Lab")
    lst.set_default("Lab")
    lst.edit("Office", new_name="HQ")
    assert lst.connections == before


@pytest.mark.parametrize("name", ["office", "OFFICE", " Office "])
def test_names_are_unique_ignoring_case(name: str) -> None:
    with pytest.raises(DuplicateName, match="'Office' already exists"):
        two().add(name, "other.example.com", "x")


@pytest.mark.parametrize("name", ["", "   ", "a\nb", "tab\there", "x" * 101])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidName):
        ConnectionList().add(name, "vms.example.com", "anna")


def test_empty_login_and_unknown_kind_are_refused() -> None:
    with pytest.raises(InvalidInput, match="login is empty"):
        ConnectionList().add("A", "vms.example.com", "  ")
    with pytest.raises(InvalidInput, match="native, zoneminder"):
        ConnectionList().add("A", "vms.example.com", "anna", kind="milestone")


def test_http_url_is_refused() -> None:
    with pytest.raises(InvalidURL, match="only connects over https"):
        ConnectionList().add("Lab", "http://lab.example.com", "anna")


def test_the_default_cannot_be_removed_while_others_exist() -> None:
    lst = two()
    with pytest.raises(DefaultProtected, match="choose another default first"):
        lst.remove("office")
    assert lst.remove("Lab").names() == ("Office",)
    assert lst.set_default("Lab").remove("Office").get("Lab").default


def test_the_sole_connection_can_be_removed() -> None:
    lst = ConnectionList().add("Office", "vms.example.com", "anna").remove("OFFICE")
    assert not lst
    assert lst.default() is None


def test_set_default_moves_the_single_default() -> None:
    lst = two().set_default("LAB")
    assert [c.name for c in lst if c.default] == ["Lab"]


def test_edit_changes_only_what_is_given() -> None:
    lst = two().edit("lab", url="lab2.example.com:8443", kind="zoneminder")
    c = lst.get("Lab")
    assert (c.url, c.kind, c.login, c.default) == (
        "https://lab2.example.com:8443",
        "zoneminder",
        "bob",
        False,
    )


def test_edit_rename_keeps_default_and_last_used_and_allows_a_case_change() -> None:
    lst = two().with_last_used("office").edit("Office", new_name="HQ")
    assert lst.get("hq").default
    assert lst.last_used == "HQ"
    assert lst.edit("HQ", new_name="hq").names() == ("hq", "Lab")
    with pytest.raises(DuplicateName):
        lst.edit("HQ", new_name="LAB")


def test_last_used_follows_removal_and_must_name_a_connection() -> None:
    lst = two().with_last_used("LAB")
    assert lst.last_used == "Lab"
    assert lst.preferred() == lst.get("Lab")
    assert lst.remove("Lab").last_used is None
    assert lst.with_last_used(None).preferred() == lst.get("Office")
    with pytest.raises(UnknownConnection, match="servers list"):
        lst.with_last_used("Nowhere")


def test_unknown_names_raise_unknown_connection() -> None:
    for call in (
        lambda lst: lst.get("x"),
        lambda lst: lst.remove("x"),
        lambda lst: lst.set_default("x"),
        lambda lst: lst.edit("x", login="y"),
    ):
        with pytest.raises(UnknownConnection):
            call(two())
    assert two().find("x") is None
    assert "LAB" in two()
    assert "x" not in two()


def test_trust_settings_are_validated_and_canonical() -> None:
    lst = two().edit("Lab", trust=Trust(mode="pinned", pin_sha256=PIN.lower().replace(":", "")))
    assert lst.get("Lab").trust == Trust(mode="pinned", pin_sha256=PIN)
    bad = [
        Trust(mode="pinned"),
        Trust(mode="pinned", pin_sha256="AB:CD"),
        Trust(mode="pinned", pin_sha256=PIN, ca_file="/x.pem"),
        Trust(mode="ca-file"),
        Trust(mode="ca-file", ca_file="relative.pem"),
        Trust(mode="ca-file", ca_file="/x.pem", pin_sha256=PIN),
        Trust(mode="system", ca_file="/x.pem"),
        Trust(mode="none"),  # type: ignore[arg-type]
    ]
    for trust in bad:
        with pytest.raises(InvalidInput):
            two().edit("Lab", trust=trust)


def test_constructor_enforces_the_invariants() -> None:
    a = Connection("A", "https://a.example", "x", default=True)
    b = Connection("a", "https://b.example", "x")
    with pytest.raises(DuplicateName):
        ConnectionList([a, b])
    with pytest.raises(InvalidInput, match="2 servers are marked"):
        ConnectionList([a, Connection("B", "https://b.example", "x", default=True)])
    with pytest.raises(InvalidInput, match="no server is marked"):
        ConnectionList([Connection("B", "https://b.example", "x")])


def test_name_key_is_case_and_space_insensitive() -> None:
    assert name_key(" Office ") == name_key("OFFICE") == "office"
    assert name_key("Straße") == name_key("STRASSE")


# --- rules, as a state machine ---------------------------------------------------------------

_names = st.sampled_from(["Office", "office", "Lab", "LAB", "Home", "Zürich", "ZÜRICH", " Edge "])


class ConnectionListMachine(RuleBasedStateMachine):
    """Random add/edit/remove/default sequences against a plain model; invariants always hold."""

    names = Bundle("names")

    def __init__(self) -> None:
        super().__init__()
        self.lst = ConnectionList()
        self.model: dict[str, str] = {}  # key -> name as stored
        self.default: str | None = None  # key

    @rule(target=names, name=_names, make_default=st.booleans())
    def add(self, name: str, make_default: bool) -> str:
        key = name_key(name)
        if key in self.model:
            with pytest.raises(DuplicateName):
                self.lst.add(name, f"{key}.example", "op", make_default=make_default)
            return name
        self.lst = self.lst.add(name, f"{key}.example", "op", make_default=make_default)
        self.model[key] = name.strip()
        if make_default or self.default is None:
            self.default = key
        return name

    @rule(name=consumes(names))
    def remove(self, name: str) -> None:
        key = name_key(name)
        if key not in self.model:
            with pytest.raises(UnknownConnection):
                self.lst.remove(name)
        elif key == self.default and len(self.model) > 1:
            with pytest.raises(DefaultProtected):
                self.lst.remove(name)
        else:
            self.lst = self.lst.remove(name)
            del self.model[key]
            if key == self.default:
                self.default = None

    @rule(name=names)
    def set_default(self, name: str) -> None:
        key = name_key(name)
        if key not in self.model:
            with pytest.raises(UnknownConnection):
                self.lst.set_default(name)
            return
        self.lst = self.lst.set_default(name)
        self.default = key

    @rule(target=names, name=names, new_name=_names)
    def rename(self, name: str, new_name: str) -> str:
        key, new_key = name_key(name), name_key(new_name)
        if key not in self.model:
            with pytest.raises(UnknownConnection):
                self.lst.edit(name, new_name=new_name)
            return new_name
        if new_key in self.model and new_key != key:
            with pytest.raises(DuplicateName):
                self.lst.edit(name, new_name=new_name)
            return new_name
        self.lst = self.lst.edit(name, new_name=new_name, login="renamed")
        del self.model[key]
        self.model[new_key] = new_name.strip()
        if self.default == key:
            self.default = new_key
        return new_name

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data())
    def use(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.model)))
        self.lst = self.lst.with_last_used(key.upper())
        assert self.lst.last_used == self.model[key]

    @invariant()
    def exactly_one_default_when_not_empty(self) -> None:
        defaults = [c for c in self.lst if c.default]
        assert len(defaults) == (1 if self.lst else 0)

    @invariant()
    def matches_the_model(self) -> None:
        assert {name_key(c.name): c.name for c in self.lst} == self.model
        default = self.lst.default()
        assert (name_key(default.name) if default else None) == self.default
        if self.lst.last_used is not None:
            assert name_key(self.lst.last_used) in self.model

    @invariant()
    def survives_a_round_trip_through_the_file_format(self) -> None:
        assert _parse(Path("servers.toml"), _dump(self.lst)) == self.lst


ConnectionListMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=25)
TestConnectionListMachine = ConnectionListMachine.TestCase


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
    assert store.set_last_used("lab").last_used == "Lab"
    assert store.load().preferred() == store.get("Lab")
    assert store.set_last_used(None).last_used is None
    with pytest.raises(UnknownConnection):
        store.set_last_used("Nowhere")


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


# --- CA files ---------------------------------------------------------------------------------


def test_ca_file_trust_accepts_a_pem_ca_and_stores_an_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.chdir(tmp_path)
    trust = ca_file_trust("ca.pem")
    assert trust == Trust(mode="ca-file", ca_file=str(tmp_path / "ca.pem"))
    assert two().edit("Lab", trust=trust).get("Lab").trust == trust


def test_ca_file_trust_refuses_missing_and_non_pem_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        ca_file_trust(tmp_path / "missing.pem")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InvalidInput, match="no PEM certificate"):
        ca_file_trust(tmp_path / "notes.txt")
    (tmp_path / "broken.pem").write_text(
        "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"
    )
    with pytest.raises(InvalidInput, match="not a valid PEM"):
        ca_file_trust(tmp_path / "broken.pem")
    if os.geteuid() != 0:  # root reads anything
        (tmp_path / "secret.pem").write_text("x")
        (tmp_path / "secret.pem").chmod(0)
        with pytest.raises(InvalidInput, match="cannot be read"):
            ca_file_trust(tmp_path / "secret.pem")


def test_replaced_tells_renames_removals_and_additions_apart() -> None:
    from vms_tray.connections.model import Connection
    from vms_tray.connections.store import ListChanges

    lst = (
        ConnectionList()
        .add("HQ", "hq.example.com", "op")
        .add("Branch", "b.example.com", "g")
        .add("Annex", "a.example.com", "g")
        .with_last_used("hq")
    )
    hq, _branch, annex = lst.connections
    rows = [
        ("hq", replace(hq, name="Head office")),  # the original name's case does not matter
        (None, Connection("Branch", "https://b2.example.com", "g")),  # deleted, then re-added
        ("Annex", annex),
    ]
    new, changes = lst.replaced(rows)
    assert new.names() == ("Head office", "Branch", "Annex")
    assert new.last_used == "Head office"
    assert changes == ListChanges({"HQ": "Head office"}, ("Branch",))


def test_replaced_forgets_the_last_used_server_when_it_goes() -> None:
    lst = ConnectionList().add("HQ", "hq.example.com", "op").add("Branch", "b.example.com", "g")
    lst = lst.with_last_used("Branch")
    new, changes = lst.replaced([("HQ", lst.connections[0])])
    assert new.last_used is None and changes.removed == ("Branch",) and not changes.renamed
