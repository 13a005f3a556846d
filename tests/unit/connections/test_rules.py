"""Connection-list rules (examples and a rule-based state machine), and CA-file trust."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
import trustme
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    precondition,
    rule,
)

from vms_tray.connections.model import Connection, Trust
from vms_tray.connections.rules import ConnectionList, ListChanges, ca_file_trust, name_key
from vms_tray.connections.store import _dump, _parse
from vms_tray.errors import (
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
