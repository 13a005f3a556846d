"""The daemon's real ports: the server list read afresh from disk, passwords by connection, and
the one place a Daemon is built."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from vms_tray.app.headless import HeadlessNotifier
from vms_tray.app.wiring import KeyringPasswords, StoreConnections, build_daemon
from vms_tray.connections.store import ConnectionStore
from vms_tray.credentials import Credentials
from vms_tray.daemon.settings import DaemonSettings
from vms_tray.errors import UnknownConnection


@pytest.fixture
def store(tmp_path: Path) -> ConnectionStore:
    store = ConnectionStore(tmp_path / "servers.toml")
    store.update(
        lambda lst: lst.add("HQ", "https://hq.example.com", "op").add(
            "Branch", "https://branch.example.com", "guard"
        )
    )
    return store


def test_connections_are_found_by_name_ignoring_case(store: ConnectionStore) -> None:
    connections = StoreConnections(store)
    assert connections.get("branch").name == "Branch"
    assert [c.name for c in connections.all()] == ["HQ", "Branch"]
    with pytest.raises(UnknownConnection):
        connections.get("Depot")


def test_the_first_connection_is_the_last_used_else_the_default(store: ConnectionStore) -> None:
    connections = StoreConnections(store)
    initial = connections.initial()
    assert initial is not None and initial.name == "HQ"  # the default
    connections.mark_used("Branch")
    assert store.load().last_used == "Branch"
    initial = connections.initial()
    assert initial is not None and initial.name == "Branch"


def test_changes_made_by_the_cli_are_seen_at_once(store: ConnectionStore) -> None:
    connections = StoreConnections(store)
    assert len(connections.all()) == 2
    ConnectionStore(store.path).update(
        lambda lst: lst.add("Depot", "https://depot.example.com", "op")
    )
    assert connections.get("Depot").login == "op"
    assert len(connections.all()) == 3


def test_passwords_are_kept_per_connection(store: ConnectionStore) -> None:
    passwords = KeyringPasswords(Credentials(None))  # no keyring: kept in memory
    hq, branch = store.load().get("HQ"), store.load().get("Branch")
    assert passwords.persistent is False
    assert passwords.get(hq) is None
    passwords.set(hq, "s3cret")
    assert passwords.get(hq) == "s3cret"
    assert passwords.get(branch) is None


def test_build_daemon_uses_the_given_notifier_and_settings() -> None:
    notifier = HeadlessNotifier(io.StringIO())
    settings = DaemonSettings(poll_interval=30)
    daemon = build_daemon(notifier, settings, passwords=KeyringPasswords(Credentials(None)))
    assert daemon.notifier is notifier
    assert daemon.settings is settings


def test_force_autostart_turns_start_at_login_on_at_start(
    tmp_path: Path, isolated_profile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vms_tray.app.wiring import apply_forced_autostart

    folder = tmp_path / "autostart"
    monkeypatch.setenv("VMS_TRAY_AUTOSTART_DIR", str(folder))
    assert apply_forced_autostart() is False  # no policy: nothing written
    assert not (folder / "vms-tray.desktop").exists()
    policy = isolated_profile / "system" / "policy.toml"
    policy.parent.mkdir(parents=True)
    policy.write_text("force_autostart = true\n", encoding="utf-8")
    assert apply_forced_autostart() is True
    assert (folder / "vms-tray.desktop").is_file()
    assert apply_forced_autostart() is False  # on already
