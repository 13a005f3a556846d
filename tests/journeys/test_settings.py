"""The settings a person changes from the tray: the server list (Manage servers) and Start at
login, in a normal profile and in the demo's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.journeys.conftest import PASSWORD
from tests.support.journey import DialogWindow, Journey
from tests.support.refserver import RefServer

pytestmark = pytest.mark.desktop

SERVERS_TITLE = "Video surveillance servers"


def _servers(walk: Journey) -> list[tuple[str, str, bool]]:
    listed = json.loads(walk.cli("servers", "list", "--json"))
    rows = listed["servers"] if isinstance(listed, dict) else listed
    return [(s["name"], s["url"], bool(s["default"])) for s in rows]


def _built(d: DialogWindow) -> bool:
    """The servers dialog built whole: its rows come before its buttons (a read between the
    two found no 'Add', 1 journeys run in 20)."""
    return bool(d.rows) and {"Add", "Save"} <= set(d.texts)


def test_manage_servers_add_rename_and_the_default_stays(walk: Journey, office: RefServer) -> None:
    walk.add_server(office)
    walk.store_password("Office", PASSWORD)
    walk.start()
    walk.wait_state("signed_in")
    walk.menu("Servers", "Manage servers…")
    dialog = walk.wait_dialog(SERVERS_TITLE, where=_built)
    assert [r.text.split(" | ")[0] for r in dialog.rows] == ["Office"]
    walk.shot("manage-servers")

    # Add: an empty form, three fields, "Add".
    walk.click(dialog, "Clear form")
    walk.type_into(dialog, "Branch", "Tab")
    walk.type_into(dialog, "branch.example.com", "Tab")
    walk.type_into(dialog, "guard")
    walk.click(dialog, "Add")
    dialog = walk.wait_dialog(SERVERS_TITLE, where=lambda d: len(d.rows) == 2)
    assert dialog.rows[1].text.startswith("Branch | https://branch.example.com | guard")
    walk.shot("added")

    # Rename: select it, Tab into its name (all selected), type the new one, Enter updates.
    branch = next(r for r in dialog.rows if r.text.startswith("Branch"))
    x, y = branch.center
    walk.desktop.xdotool("mousemove", "--sync", str(x), str(y), "click", "1")
    walk.wait_dialog(SERVERS_TITLE, where=lambda d: any(r.selected for r in d.rows[1:]))
    walk.type_into(dialog, "", "Tab")
    walk.type_into(dialog, "Branch office", "Return")
    dialog = walk.wait_dialog(SERVERS_TITLE, contains="Branch office | https://branch")
    walk.shot("renamed")

    # The default cannot be deleted: the dialog says why, and keeps it.
    office_row = next(r for r in dialog.rows if r.text.startswith("Office"))
    x, y = office_row.center
    walk.desktop.xdotool("mousemove", "--sync", str(x), str(y), "click", "1")
    walk.wait_dialog(SERVERS_TITLE, where=lambda d: d.rows[0].selected)
    walk.click(dialog, "Delete")
    dialog = walk.wait_dialog(SERVERS_TITLE, contains="The default server cannot be deleted")
    assert len(dialog.rows) == 2
    walk.shot("default-refused")

    walk.click(dialog, "Save")
    walk.wait_no_dialog(SERVERS_TITLE)
    assert _servers(walk) == [
        ("Office", office.url, True),
        ("Branch office", "https://branch.example.com", False),
    ]
    # The tray's Servers menu lists both; the session on Office goes on.
    walk.wait_state("signed_in", server="Office", servers=["Office", "Branch office"])
    walk.menu("Servers", "Office", choose=False)


def _autostart_entry(walk: Journey) -> Path:
    return Path(walk.env["XDG_CONFIG_HOME"]) / "autostart" / "vms-tray.desktop"


def test_start_at_login_on_and_off(walk: Journey, office: RefServer) -> None:
    walk.add_server(office)
    walk.store_password("Office", PASSWORD)
    walk.start()
    walk.wait_state("signed_in")
    entry = _autostart_entry(walk)
    assert not entry.exists()
    walk.menu("Start at login")
    walk.wait(entry.exists, 10, "the autostart entry")
    text = entry.read_text()
    assert "Exec=" in text and " run" in text, text
    walk.menu("Start at login")  # on the menu shot it is ticked
    walk.wait(lambda: not entry.exists(), 10, "the autostart entry to go")


def test_demo_start_at_login_stays_in_the_demo_profile(walk: Journey) -> None:
    """Issue 10 item 11: the demo's profile is isolated, so its Start at login must not write
    the real ~/.config/autostart."""
    walk.start("demo")
    demo_profile = Path(walk.env["VMS_TRAY_PROFILE"]) / "data" / "demo" / "profile"
    walk.use_profile(demo_profile)
    walk.wait_state("limit_reached")
    real = _autostart_entry(walk)
    kept = demo_profile / "autostart" / "vms-tray.desktop"
    walk.menu("Start at login")
    walk.wait(lambda: real.exists() or kept.exists(), 10, "an autostart entry")
    assert not real.exists(), "the demo wrote the real ~/.config/autostart"
    assert kept.exists()
    walk.menu("Start at login")
    walk.wait(lambda: not kept.exists(), 10, "the demo's entry to go")
    assert not real.exists()


def test_managed_servers_and_policy_in_the_tray(walk: Journey, office: RefServer) -> None:
    """Issue 15: the administrator's servers and policy, as the user meets them in the tray."""
    system = Path(walk.env["VMS_TRAY_PROFILE"]) / "system"
    system.mkdir(parents=True)
    (system / "servers.toml").write_text(
        f'schema_version = 1\n\n[[connections]]\nname = "Plant"\nurl = "{office.url}"\n'
        f'login = "anna"\ndefault = true\n[connections.trust]\nmode = "ca-file"\n'
        f'ca_file = "{office.cert_pem_path}"\n',
        encoding="utf-8",
    )
    policy = system / "policy.toml"
    policy.write_text(
        "lock_servers = true\nforbid_remember_password = true\nforce_autostart = true\n",
        encoding="utf-8",
    )
    walk.start()
    login = walk.wait_dialog("^Sign in", contains="does not allow saving passwords")
    box = login.widget("Remember password (in the system keyring)")
    assert not box.enabled
    walk.shot("sign-in-no-remember")
    walk.keys(login, "Escape")
    walk.wait_no_dialog("Sign in")
    assert _autostart_entry(walk).is_file()  # force_autostart applied at start

    walk.menu("Servers", "Manage servers…")
    dialog = walk.wait_dialog(SERVERS_TITLE, where=_built)
    assert dialog.rows[0].text.endswith("| by administrator")
    assert "Plant is managed by your administrator" in dialog.text
    assert "locked the server list" in dialog.text
    for label in ("Add", "Update", "Delete", "Clear form"):
        assert not dialog.widget(label).enabled, label
    walk.shot("servers-managed-locked")
    walk.click(dialog, "Save")
    walk.wait_no_dialog(SERVERS_TITLE)
    assert _servers(walk) == [("Plant", office.url, True)]

    refused = walk.cli("autostart", "disable", check=False)
    assert refused == "" and _autostart_entry(walk).is_file()
