"""SecretServiceKeyring on the real Secret Service (gnome-keyring on a private D-Bus session).

keyring's own contract class (``keyring.testing.backend.BackendBasicTests``, what every keyring
backend runs) for each transfer algorithm, and entries shared both ways with keyring's own
Secret Service backend, which goes through secretstorage and cryptography.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest
from keyring.errors import KeyringLocked
from keyring.testing.backend import BackendBasicTests

from tests.support.cli import TIMEOUT
from vms_tray.credentials import Credentials
from vms_tray.errors import CredentialError
from vms_tray.secretservice import backend, bus, transfer

pytestmark = [pytest.mark.keyring, pytest.mark.integration]


@pytest.fixture(autouse=True)
def on_the_test_bus(
    secret_service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", secret_service_env["DBUS_SESSION_BUS_ADDRESS"])
    yield


class TestContractWithDiffieHellman(BackendBasicTests):
    def init_keyring(self) -> backend.SecretServiceKeyring:
        return backend.SecretServiceKeyring()

    def test_it_agrees_on_a_key(self) -> None:
        with self.keyring._call() as call:
            assert call.transfer.key is not None


class TestContractInPlain(BackendBasicTests):
    def init_keyring(self) -> backend.SecretServiceKeyring:
        keyring = backend.SecretServiceKeyring()
        keyring.algorithms = (transfer.ALGORITHM_PLAIN,)
        return keyring

    def test_it_sends_plain(self) -> None:
        with self.keyring._call() as call:
            assert call.transfer.key is None


def keyrings_own(env: dict[str, str], code: str, *args: str) -> list[str]:
    """Run ``code`` in a process that has keyring's default backend; its output lines."""
    out = subprocess.run(
        [sys.executable, "-c", "import json, sys, keyring\n" + code, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    return out.stdout.splitlines()


def test_has_password_finds_without_reading_and_credentials_use_it() -> None:
    ours = backend.SecretServiceKeyring()
    creds = Credentials(ours)
    # The keyring is the session's: a name no other test uses.
    name = f"Has-{uuid.uuid4().hex[:8]}"
    assert not ours.has_password("vms-tray", name.lower()) and not creds.has(name)
    creds.set(name, "pw")
    assert ours.has_password("vms-tray", name.lower()) and creds.has(f" {name.upper()} ")
    assert creds.forget(name) and not creds.has(name)


def test_entries_are_shared_with_keyrings_own_backend(secret_service_env: dict[str, str]) -> None:
    env = {k: v for k, v in secret_service_env.items() if k != "PYTHON_KEYRING_BACKEND"}
    ours = backend.SecretServiceKeyring()
    ours.set_password("vms-tray-interop", "anna", "from us: ü 𝄞")
    read = keyrings_own(
        env,
        "print(type(keyring.get_keyring()).__module__)\n"
        "print(json.dumps(keyring.get_password('vms-tray-interop', 'anna')))\n"
        "keyring.set_password('vms-tray-interop', 'boris', 'from keyring: ß')\n",
    )
    assert read == ["keyring.backends.SecretService", json.dumps("from us: ü 𝄞")]
    assert ours.get_password("vms-tray-interop", "boris") == "from keyring: ß"
    ours.set_password("vms-tray-interop", "boris", "replaced by us")
    ours.delete_password("vms-tray-interop", "anna")
    after = keyrings_own(
        env,
        "print(json.dumps([keyring.get_password('vms-tray-interop', u) for u in sys.argv[1:]]))",
        "anna",
        "boris",
    )
    assert json.loads(after[0]) == [None, "replaced by us"]
    ours.delete_password("vms-tray-interop", "boris")


@pytest.mark.usefixtures("own_keyring")
def test_a_locked_keyring_whose_prompt_cannot_show_fails_at_once_as_locked() -> None:
    ours = backend.SecretServiceKeyring()
    ours.set_password("vms-tray-lock", "anna", "pw")
    with ours._call() as call:
        call.call(bus.SERVICE_PATH, "Service", "Lock", "ao", [call.collection])
    started = time.monotonic()
    with pytest.raises(KeyringLocked, match="stays locked"):
        ours.get_password("vms-tray-lock", "anna")
    assert time.monotonic() - started < backend.PROMPT_TIMEOUT / 10
    with pytest.raises(CredentialError, match="the system keyring is locked") as caught:
        Credentials(ours).get("Office")
    assert "\n" not in str(caught.value)


def test_without_a_session_bus_it_is_not_viable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS")
    monkeypatch.setenv("XDG_RUNTIME_DIR", os.devnull)
    with pytest.raises(RuntimeError, match="D-Bus session bus did not answer"):
        backend.SecretServiceKeyring.priority  # noqa: B018


def test_where_one_answers_it_ranks_as_keyrings_own() -> None:
    assert backend.SecretServiceKeyring.priority == 5
