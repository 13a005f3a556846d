"""The server-list dialog on a real X server: adding under the rules, the default, renaming."""

from __future__ import annotations

import pytest

from tests.desktop.conftest import DialogDriver

pytestmark = pytest.mark.desktop


def test_servers_add_rules_and_save(dialogs: DialogDriver) -> None:
    handle, wid = dialogs.open("connections", {"connections": []}, "Video surveillance servers")
    dialogs.focus(wid)
    dialogs.type("HQ")
    dialogs.key("Tab")
    dialogs.type("hq.example.com:8443")
    dialogs.key("Tab")
    dialogs.type("operator")
    dialogs.key("Return")  # Enter in the form adds the server and clears the form
    dialogs.type("Branch")
    dialogs.key("Tab")
    dialogs.type("http://branch.example.com")  # refused inline: https only
    dialogs.key("Tab")
    dialogs.type("guard")
    dialogs.key("Return")
    dialogs.shot(wid, "dialog-servers-error.png")
    dialogs.key("shift+Tab")  # back into the address (keyboard traversal selects it all)
    dialogs.type("branch.example.com")
    dialogs.key("Return")
    dialogs.shot(wid, "dialog-servers.png")
    dialogs.key("ctrl+s")
    answer = handle.wait(15)
    assert answer is not None and answer["action"] == "save"
    # https:// was added; the first server became the default.
    assert [(c["name"], c["url"], c["login"], c["default"]) for c in answer["connections"]] == [
        ("HQ", "https://hq.example.com:8443", "operator", True),
        ("Branch", "https://branch.example.com", "guard", False),
    ]
    assert [c["original"] for c in answer["connections"]] == [None, None]  # both added here


def test_servers_default_cannot_be_deleted(dialogs: DialogDriver) -> None:
    conns = [
        {"name": "HQ", "url": "https://hq.example.com", "login": "op", "default": True},
        {"name": "Branch", "url": "https://b.example.com", "login": "g", "default": False},
    ]
    handle, wid = dialogs.open("connections", {"connections": conns}, "Video surveillance servers")
    dialogs.focus(wid)
    dialogs.key("Delete")  # HQ, the default, is selected: refused inline
    dialogs.key("Down", "Delete")  # Branch goes
    dialogs.key("ctrl+s")
    answer = handle.wait(15)
    assert answer is not None
    assert [c["name"] for c in answer["connections"]] == ["HQ"]
    assert answer["connections"][0]["original"] == "HQ"


def test_servers_rename_carries_the_original_name(dialogs: DialogDriver) -> None:
    conns = [{"name": "HQ", "url": "https://hq.example.com", "login": "op", "default": True}]
    handle, wid = dialogs.open("connections", {"connections": conns}, "Video surveillance servers")
    dialogs.focus(wid)
    dialogs.key("Tab")  # from the table (HQ selected, the form filled) into the name, all selected
    dialogs.type("Head office")
    dialogs.key("Return")  # Enter with a server selected updates it
    dialogs.key("ctrl+s")
    answer = handle.wait(15)
    assert answer is not None and answer["action"] == "save"
    assert [(c["name"], c["original"]) for c in answer["connections"]] == [("Head office", "HQ")]


def test_servers_a_managed_one_stays_as_it_was(dialogs: DialogDriver) -> None:
    path = "/etc/xdg/vms-tray/servers.toml"
    conns = [
        {
            "name": "Plant",
            "url": "https://p.example.com",
            "login": "g",
            "default": True,
            "managed_by": path,
        },
        {"name": "HQ", "url": "https://hq.example.com", "login": "op", "default": False},
    ]
    handle, wid = dialogs.open("connections", {"connections": conns}, "Video surveillance servers")
    dialogs.focus(wid)
    dialogs.shot(wid, "dialog-servers-managed.png")
    dialogs.key("Delete")  # Plant, managed, is selected: refused inline
    dialogs.key("Tab")
    dialogs.type("Renamed")  # its form is read-only
    dialogs.key("Return")
    dialogs.key("ctrl+s")
    answer = handle.wait(15)
    assert answer is not None and answer["action"] == "save"
    assert [(c["name"], c["url"], c["managed_by"]) for c in answer["connections"]] == [
        ("Plant", "https://p.example.com", path),
        ("HQ", "https://hq.example.com", None),
    ]


def test_servers_a_locked_list_adds_nothing(dialogs: DialogDriver) -> None:
    conns = [{"name": "HQ", "url": "https://hq.example.com", "login": "op", "default": True}]
    request = {"connections": conns, "locked": "/etc/xdg/vms-tray/policy.toml"}
    handle, wid = dialogs.open("connections", request, "Video surveillance servers")
    dialogs.focus(wid)
    dialogs.shot(wid, "dialog-servers-locked.png")
    dialogs.key("Delete")
    dialogs.key("ctrl+s")
    answer = handle.wait(15)
    assert answer is not None
    assert [c["name"] for c in answer["connections"]] == ["HQ"]
