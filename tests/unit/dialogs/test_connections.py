"""The server-list dialog's pure parts: the rules' messages, phrased for the dialog."""

from __future__ import annotations

import pytest

from vms_tray import i18n
from vms_tray.dialogs.connections import explain
from vms_tray.errors import DefaultProtected, DuplicateName, InvalidURL


@pytest.fixture(autouse=True)
def english() -> None:
    i18n.install("en")


def test_rule_messages_are_phrased_for_the_dialog() -> None:
    assert "cannot be deleted" in explain(DefaultProtected("x"))
    assert "already exists" in explain(DuplicateName("x"))
    assert explain(InvalidURL("uses http://")) == "The address is not valid: uses http://"


def test_managed_and_locked_servers_say_why_they_cannot_be_changed() -> None:
    from vms_tray.connections.model import Connection
    from vms_tray.dialogs.connections import from_request, refusal
    from vms_tray.errors import ManagedConnection

    path = "/etc/xdg/vms-tray/servers.toml"
    row = {"name": "Plant", "url": "https://p", "login": "g", "managed_by": path}
    plant = from_request(row)
    assert plant.managed_by == path  # connection_from_json alone drops the mark
    mine = Connection("HQ", "https://hq", "op")
    assert refusal(plant, None) == (
        f"Plant is managed by your administrator ({path}): it cannot be changed or deleted."
    )
    assert explain(ManagedConnection("Plant", path)) == refusal(plant, None)
    assert refusal(mine, None) is None
    locked = refusal(mine, "/etc/xdg/vms-tray/policy.toml")
    assert locked is not None and "locked the server list" in locked
    assert refusal(None, "/etc/xdg/vms-tray/policy.toml") == locked


def test_a_managed_server_in_a_locked_list_gives_both_reasons() -> None:
    from vms_tray.dialogs.connections import from_request, refusal

    plant = from_request({"name": "P", "url": "https://p", "login": "g", "managed_by": "/s"})
    both = refusal(plant, "/p")
    assert both is not None and both.splitlines()[0].startswith("P is managed")
    assert "locked the server list (/p)" in both.splitlines()[1]
