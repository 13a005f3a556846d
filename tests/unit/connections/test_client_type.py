"""A connection's ``client_type`` (AIPIX's X-Client, docs/aipix.md): kept in servers.toml only
when set, so files without it read and write as before."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from tests.support.cli import cli_env, run_cli
from vms_tray.connections.rules import ConnectionList
from vms_tray.connections.store import ConnectionStore
from vms_tray.errors import InvalidInput


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


def test_client_type_is_checked_and_set_by_add_and_edit() -> None:
    lst = ConnectionList().add("HQ", "vms.example.com", "anna", kind="aipix", client_type="web")
    assert lst.get("HQ").client_type == "web"
    assert lst.edit("HQ", login="bob").get("HQ").client_type == "web"  # None: unchanged
    assert lst.edit("HQ", client_type="").get("HQ").client_type is None  # "": cleared
    with pytest.raises(InvalidInput, match="not a client type"):
        lst.edit("HQ", client_type="bad value")


def test_the_cli_sets_the_client_type(isolated_profile: Path) -> None:
    env = cli_env(isolated_profile)
    added = run_cli(
        env,
        "servers",
        "add",
        "HQ",
        "vms.example.com",
        "--login",
        "anna",
        "--kind",
        "aipix",
        "--client-type",
        "web",
    )
    assert added.returncode == 0, added.stderr
    assert ConnectionStore().load().get("HQ").client_type == "web"
    bad = run_cli(env, "servers", "edit", "HQ", "--client-type", "no spaces")
    assert bad.returncode == 1 and "not a client type" in bad.stderr
    reset = run_cli(env, "servers", "edit", "HQ", "--client-type", "")
    assert reset.returncode == 0, reset.stderr
    assert ConnectionStore().load().get("HQ").client_type is None
