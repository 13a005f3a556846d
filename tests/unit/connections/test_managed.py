"""The administrator's servers: merged into what the user sees, never editable; a bad file is
ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from vms_tray.connections.managed import load_managed, merged, visible
from vms_tray.connections.rules import ConnectionList
from vms_tray.connections.store import ConnectionStore
from vms_tray.errors import ManagedConnection

SYSTEM = """schema_version = 1
[[connections]]
name = "Plant"
url = "https://plant.example.com"
login = "operator"
default = true
"""


def system_file(tmp_path: Path, text: str = SYSTEM) -> Path:
    path = tmp_path / "system" / "servers.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def own(*names: str) -> ConnectionList:
    lst = ConnectionList()
    for n in names:
        lst = lst.add(n, f"{n.lower()}.example.com", "me")
    return lst


def test_managed_servers_are_marked_with_their_file(tmp_path: Path) -> None:
    path = system_file(tmp_path)
    m = load_managed(path)
    assert m.problem is None
    assert [(c.name, c.managed_by) for c in m.connections] == [("Plant", str(path))]


def test_a_missing_file_manages_nothing(tmp_path: Path) -> None:
    m = load_managed(tmp_path / "none.toml")
    assert m.connections == () and m.problem is None


@pytest.mark.parametrize("text", ["not toml [", "schema_version = 1\nconnections = 3\n"])
def test_a_bad_file_is_one_line_naming_it_and_ignored(tmp_path: Path, text: str) -> None:
    path = system_file(tmp_path, text)
    m = load_managed(path)
    assert m.connections == ()
    assert m.problem is not None and str(path) in m.problem and "\n" not in m.problem
    assert merged(own("Mine"), m).list.names() == ("Mine",)


def test_the_users_default_stays_while_they_have_servers(tmp_path: Path) -> None:
    view = merged(own("Mine", "Other"), load_managed(system_file(tmp_path)))
    assert view.list.names() == ("Plant", "Mine", "Other")
    default = view.list.default()
    assert default is not None and default.name == "Mine"


def test_with_no_servers_of_their_own_the_administrators_default(tmp_path: Path) -> None:
    default = merged(ConnectionList(), load_managed(system_file(tmp_path))).list.default()
    assert default is not None and default.name == "Plant"


def test_a_managed_namesake_wins(tmp_path: Path) -> None:
    view = merged(own("plant", "Mine"), load_managed(system_file(tmp_path)))
    assert view.list.names() == ("Plant", "Mine")
    assert view.shadowed == ("plant",)
    assert view.list.get("plant").url == "https://plant.example.com"


def test_the_rules_refuse_to_change_a_managed_server(tmp_path: Path) -> None:
    path = system_file(tmp_path)
    lst = merged(own("Mine"), load_managed(path)).list
    for attempt in (
        lambda: lst.edit("Plant", url="other.example.com"),
        lambda: lst.edit("Plant", new_name="X"),
        lambda: lst.remove("Plant"),
    ):
        with pytest.raises(ManagedConnection, match="managed by the administrator") as exc:
            attempt()
        assert str(path) in str(exc.value)


def test_visible_reads_both_files(tmp_path: Path) -> None:
    store = ConnectionStore(tmp_path / "servers.toml")
    store.update(lambda lst: lst.add("Mine", "mine.example.com", "me"))
    view = visible(store, system_file(tmp_path))
    assert view.list.names() == ("Plant", "Mine")
    assert store.load().names() == ("Mine",)  # the user's file never holds managed servers
