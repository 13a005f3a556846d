"""A connection's ``client_type`` (AIPIX's X-Client, docs/aipix.md): kept in servers.toml only
when set, so files without it read and write as before."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

from vms_tray.connections.rules import ConnectionList
from vms_tray.connections.store import ConnectionStore


def test_client_type_round_trips_and_is_absent_by_default(tmp_path: Path) -> None:
    path = tmp_path / "servers.toml"
    store = ConnectionStore(path)
    store.update(lambda lst: lst.add("HQ", "vms.example.com", "anna", kind="aipix"))
    assert "client_type" not in tomllib.loads(path.read_text())["connections"][0]
    assert store.load().get("HQ").client_type is None

    def set_web(lst: ConnectionList) -> ConnectionList:
        return ConnectionList([replace(lst.get("HQ"), client_type="web")], lst.last_used)

    store.update(set_web)
    assert tomllib.loads(path.read_text())["connections"][0]["client_type"] == "web"
    assert store.load().get("HQ").client_type == "web"
