"""Manage servers: the connection list shown and saved, passwords following renames; the
certificate the sign-in dialog trusts is pinned in the same list."""

from __future__ import annotations

from pathlib import Path

from tests.unit.tray.fakes import FakeDaemon, FakeLauncher, World
from vms_tray import commands, i18n
from vms_tray.connections.rules import ConnectionList
from vms_tray.connections.store import ConnectionStore
from vms_tray.credentials import Credentials
from vms_tray.session.snapshot import Snapshot
from vms_tray.tray.connections_dialog import ConnectionsDialog
from vms_tray.tray.dialog_host import DialogHost
from vms_tray.tray.view import Intent


def _dialog(
    credentials: Credentials | None = None,
) -> tuple[ConnectionsDialog, FakeDaemon, FakeLauncher]:
    i18n.install("en")
    daemon = FakeDaemon(Snapshot())
    launcher = FakeLauncher()
    return ConnectionsDialog(daemon, DialogHost(launcher), credentials), daemon, launcher


def test_the_menu_entry_opens_the_dialog_with_the_list_and_saving_reloads(world: World) -> None:
    app, daemon, _i, launcher, _a = world
    ConnectionStore().update(lambda lst: lst.add("HQ", "hq.example.com", "op").with_last_used("HQ"))
    app.on_intent(Intent.MANAGE_SERVERS)
    assert app.drain()
    request, on_answer, _e = launcher.last("connections")
    assert request["language"] == "en" and "native" in request["kinds"]
    conns = request["connections"]
    assert conns[0]["url"] == "https://hq.example.com"
    conns.append({"name": "Branch", "url": "https://b.example.com", "login": "g", "default": False})
    on_answer({"action": "save", "connections": conns})
    saved: ConnectionList = ConnectionStore().load()
    assert saved.names() == ("HQ", "Branch")
    assert saved.last_used == "HQ"
    assert daemon.posted == [commands.ReloadConfig()]


def test_renames_and_removals_carry_the_passwords(isolated_profile: Path) -> None:
    creds = Credentials(None)  # memory only: the same class the CLI uses on the keyring
    creds.set("HQ", "hq-pw")
    creds.set("Branch", "branch-pw")
    ConnectionStore().update(
        lambda lst: (
            lst.add("HQ", "hq.example.com", "op")
            .add("Branch", "b.example.com", "g")
            .with_last_used("hq")
        )  # names ignore case
    )
    servers, daemon, launcher = _dialog(creds)
    servers.open()
    request, on_answer, _e = launcher.last("connections")
    hq = {**request["connections"][0], "name": "Head office", "original": "HQ"}
    on_answer({"action": "save", "connections": [hq]})  # HQ renamed, Branch deleted
    saved: ConnectionList = ConnectionStore().load()
    assert saved.names() == ("Head office",) and saved.last_used == "Head office"
    assert creds.get("Head office") == "hq-pw" and creds.get("HQ") is None
    assert creds.get("Branch") is None
    assert daemon.posted == [commands.ReloadConfig()]


def test_saving_from_the_dialog_keeps_what_it_does_not_edit(isolated_profile: Path) -> None:
    """client_type is set in servers.toml only; a save from the dialog used to drop it."""
    ConnectionStore().update(
        lambda lst: lst.add("HQ", "hq.example.com", "op", kind="aipix", client_type="thin-web")
    )
    servers, _daemon, launcher = _dialog()
    servers.open()
    request, on_answer, _e = launcher.last("connections")
    hq = {**request["connections"][0], "login": "boris", "original": "HQ"}
    on_answer({"action": "save", "connections": [hq]})
    (saved,) = ConnectionStore().load()
    assert (saved.login, saved.kind, saved.client_type) == ("boris", "aipix", "thin-web")


def test_cancel_changes_nothing(isolated_profile: Path) -> None:
    ConnectionStore().update(lambda lst: lst.add("HQ", "hq.example.com", "op"))
    servers, daemon, launcher = _dialog()
    servers.open()
    _req, on_answer, _e = launcher.last("connections")
    on_answer({"action": "cancel"})
    assert ConnectionStore().load().names() == ("HQ",)
    assert daemon.posted == []


def test_an_unreadable_list_shows_an_empty_one(isolated_profile: Path) -> None:
    path = ConnectionStore().path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("this is = = not toml\n", encoding="utf-8")
    servers, _d, _l = _dialog()
    assert servers.connections() == []


def test_pinning_a_certificate_writes_it_and_reloads(isolated_profile: Path) -> None:
    ConnectionStore().update(lambda lst: lst.add("HQ", "hq.example.com", "op"))
    servers, daemon, _l = _dialog()
    fp = ":".join(["AB"] * 32)
    servers.pin_certificate("HQ", fp)
    conn = ConnectionStore().load().get("HQ")
    assert conn.trust.mode == "pinned" and conn.trust.pin_sha256 == fp
    assert daemon.posted == [commands.ReloadConfig()]


def _system(isolated_profile: Path, servers: str = "", policy: str = "") -> Path:
    """The administrator's files, in the system folder the profile uses."""
    folder = isolated_profile / "system"
    folder.mkdir(parents=True, exist_ok=True)
    if servers:
        (folder / "servers.toml").write_text(servers, encoding="utf-8")
    if policy:
        (folder / "policy.toml").write_text(policy, encoding="utf-8")
    return folder


PLANT = """schema_version = 1
[[connections]]
name = "Plant"
url = "https://plant.example.com"
login = "guard"
default = true
"""


def test_a_managed_server_is_sent_as_managed_and_edits_of_it_are_refused(
    isolated_profile: Path,
) -> None:
    folder = _system(isolated_profile, servers=PLANT)
    ConnectionStore().update(lambda lst: lst.add("HQ", "hq.example.com", "op"))
    servers, daemon, launcher = _dialog()
    servers.open()
    request, on_answer, _e = launcher.last("connections")
    plant, hq = request["connections"]
    assert plant["managed_by"] == str(folder / "servers.toml") and hq["managed_by"] is None
    assert request["locked"] is None
    # An edited managed row without its mark (an older dialog): refused, nothing written.
    edited = {**plant, "url": "https://evil.example.com", "managed_by": None, "original": "Plant"}
    on_answer({"action": "save", "connections": [edited, {**hq, "original": "HQ"}]})
    assert ConnectionStore().load().names() == ("HQ",)
    assert daemon.posted == []
    again, _a, _e = launcher.last("connections")
    assert again["error"] == (
        f"'Plant' is managed by the administrator (in {folder / 'servers.toml'}) and cannot be "
        "changed here"
    )
    # Dropped from the table: refused the same way.
    on_answer({"action": "save", "connections": [{**hq, "original": "HQ"}]})
    assert "'Plant' is managed" in launcher.last("connections")[0]["error"]
    assert daemon.posted == []


def test_a_locked_list_refuses_adds_and_edits_but_the_default_may_move(
    isolated_profile: Path,
) -> None:
    folder = _system(isolated_profile, servers=PLANT, policy="lock_servers = true\n")
    ConnectionStore().update(lambda lst: lst.add("HQ", "hq.example.com", "op"))
    servers, daemon, launcher = _dialog()
    servers.open()
    request, on_answer, _e = launcher.last("connections")
    assert request["locked"] == str(folder / "policy.toml")
    plant, hq = ({**c, "original": c["name"]} for c in request["connections"])
    new = {"name": "Mine", "url": "https://m.example.com", "login": "me", "original": None}
    on_answer({"action": "save", "connections": [plant, hq, new]})
    assert ConnectionStore().load().names() == ("HQ",)
    assert "locked the server list (lock_servers in" in launcher.last("connections")[0]["error"]
    on_answer({"action": "save", "connections": [plant, {**hq, "login": "other"}]})
    assert ConnectionStore().load().get("HQ").login == "op"
    assert daemon.posted == []
    plant["default"], hq["default"] = False, True
    on_answer({"action": "save", "connections": [plant, hq]})
    assert daemon.posted == [commands.ReloadConfig()]
