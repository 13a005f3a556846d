"""The shared link to the Secret Service, on a gnome-keyring of each test's own.

The first test is the one that found the bug: with a connection per call, four threads asking
whether a password is stored made gnome-keyring-daemon 42 abort within 1-2 s (it admits a new
client from an idle callback, and a message handled before it finds no client record), and
every keyring of the desktop came back locked. Twenty seconds of that never lost a daemon here
once calls share one connection that opens with OpenSession.
"""

from __future__ import annotations

import threading
import time

import pytest
from jeepney import DBusAddress, new_method_call
from jeepney.bus_messages import message_bus
from keyring.errors import KeyringLocked

from tests.integration.secretservice.conftest import OwnKeyring
from vms_tray.secretservice import backend, bus

pytestmark = [pytest.mark.keyring, pytest.mark.integration]

THREADS = 4
PRESSURE_SECONDS = 4.0  # the per-call connections lost the daemon in 1-2 s
STATS = "org.freedesktop.DBus.Debug.Stats"


def _owner() -> str:
    def ask(link: bus.Link) -> str:
        owner: str = bus.body(link.connection, message_bus.GetNameOwner(bus.BUS_NAME))[0]
        return owner

    return bus.run(backend.SecretServiceKeyring.algorithms, ask)


def test_threads_at_once_share_one_connection_and_the_daemon_lives(
    own_keyring: OwnKeyring,
) -> None:
    ours = backend.SecretServiceKeyring()
    ours.set_password("vms-tray-press", "anna", "pw")
    owner, links = _owner(), set()
    failures: list[BaseException] = []
    done = [0] * THREADS
    deadline = time.monotonic() + PRESSURE_SECONDS

    def press(n: int) -> None:
        try:
            while time.monotonic() < deadline and own_keyring.death() is None:
                assert ours.has_password("vms-tray-press", "anna")
                assert ours.get_password("vms-tray-press", "anna") == "pw"
                ours.set_password("vms-tray-press", f"thread-{n}", str(done[n]))
                links.add(id(bus._shared))
                done[n] += 1
        except BaseException as exc:  # the assertion below reports it
            failures.append(exc)

    threads = [threading.Thread(target=press, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=PRESSURE_SECONDS + 60)
    assert own_keyring.death() is None
    assert not failures, failures[:3]
    assert all(done), done  # every thread got its turns, none starved
    assert _owner() == owner  # the same daemon answers: it was never restarted
    assert links == {id(bus._shared)}


def test_a_restarted_keyring_daemon_is_found_again(own_keyring: OwnKeyring) -> None:
    ours = backend.SecretServiceKeyring()
    ours.set_password("vms-tray-restart", "anna", "kept in the file")
    before = _owner()
    own_keyring.restart()
    # the same backend, the same link: its transfer session belonged to the old daemon
    assert ours.get_password("vms-tray-restart", "anna") == "kept in the file"
    assert _owner() != before
    ours.delete_password("vms-tray-restart", "anna")
    assert not ours.has_password("vms-tray-restart", "anna")


def test_a_wait_for_a_prompt_leaves_no_match_rule_behind(own_keyring: OwnKeyring) -> None:
    """The link outlives each call: a rule added for a prompt's answer is removed after it."""
    ours = backend.SecretServiceKeyring()
    ours.set_password("vms-tray-rules", "anna", "pw")

    def rules(link: bus.Link) -> int:
        # dbus-daemon's own count (its Debug.Stats interface, built into Debian's)
        stats = DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus", STATS)
        ask = new_method_call(stats, "GetConnectionStats", "s", (link.connection.unique_name,))
        return int(dict(bus.body(link.connection, ask)[0])["MatchRules"][1])

    before = bus.run(ours.algorithms, rules)
    with ours._call() as call:
        call.call(bus.SERVICE_PATH, "Service", "Lock", "ao", [call.collection])
    with pytest.raises(KeyringLocked):
        ours.get_password("vms-tray-rules", "anna")  # the prompt cannot show: no display
    assert bus.run(ours.algorithms, rules) == before
