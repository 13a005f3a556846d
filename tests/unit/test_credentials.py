"""Credentials over an in-memory keyring backend, the memory fallback, and the backend policy."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyring.compat import properties

from vms_tray.credentials import (
    SERVICE,
    Credentials,
    credential_key,
    is_secure_backend,
    open_credentials,
    secure_backend,
)
from vms_tray.errors import CredentialError, InvalidInput, NoSecureKeyring

SECRET = "Sup3r-S3cret!pw"


class MemoryKeyring(KeyringBackend):
    """A small secure-looking backend holding entries in a dict."""

    @properties.classproperty
    def priority(cls) -> float:
        # Not viable, so keyring.get_keyring() never picks this class on its own.
        raise RuntimeError("test backend")

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.entries:
            raise keyring.errors.PasswordDeleteError("no such password")
        del self.entries[(service, username)]


class FailingKeyring(MemoryKeyring):
    """Raises what real backends raise: locked keyrings and D-Bus failures."""

    def __init__(self, exc: Exception) -> None:
        super().__init__()
        self.exc = exc

    def get_password(self, service: str, username: str) -> str | None:
        raise self.exc

    def set_password(self, service: str, username: str, password: str) -> None:
        raise self.exc


class PlaintextKeyring(MemoryKeyring):
    """Looks like keyrings.alt's plaintext file backend."""


PlaintextKeyring.__module__ = "keyrings.alt.file"


class EncryptedKeyring(MemoryKeyring):
    pass


EncryptedKeyring.__module__ = "keyrings.alt.file"


def chain_of(*members: KeyringBackend) -> chainer.ChainerBackend:
    class Chain(chainer.ChainerBackend):
        backends = tuple(members)

    return Chain()


# --- storage -----------------------------------------------------------------------------------


def test_set_get_forget_in_the_keyring_under_a_stable_key() -> None:
    backend = MemoryKeyring()
    creds = Credentials(backend)
    assert creds.persistent
    creds.set("Office", SECRET)
    assert backend.entries == {(SERVICE, "office"): SECRET}
    assert creds.get("OFFICE") == SECRET
    assert creds.has(" office ")
    assert creds.forget("Office") is True
    assert creds.forget("Office") is False
    assert creds.get("Office") is None
    assert backend.entries == {}


def test_credential_key_ignores_case_and_surrounding_spaces() -> None:
    assert credential_key(" Office ") == credential_key("OFFICE") == "office"


def test_empty_password_is_refused() -> None:
    creds = Credentials(MemoryKeyring())
    with pytest.raises(InvalidInput, match="empty"):
        creds.set("Office", "")


def test_rename_moves_the_entry() -> None:
    backend = MemoryKeyring()
    creds = Credentials(backend)
    creds.set("Office", SECRET)
    creds.rename("Office", "HQ")
    assert backend.entries == {(SERVICE, "hq"): SECRET}
    creds.rename("HQ", "hq")  # only the case changed: same entry
    assert backend.entries == {(SERVICE, "hq"): SECRET}
    creds.rename("Nothing", "Else")  # nothing stored: nothing to move
    assert backend.entries == {(SERVICE, "hq"): SECRET}


def test_memory_fallback_keeps_passwords_for_the_process_only() -> None:
    creds = Credentials(None, warning="no keyring")
    assert not creds.persistent
    creds.set("Office", SECRET)
    assert creds.get("office") == SECRET
    creds.rename("Office", "HQ")
    assert creds.get("hq") == SECRET and creds.get("office") is None
    assert creds.forget("HQ") is True
    assert Credentials(None).get("HQ") is None


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "says"),
    [
        (keyring.errors.KeyringLocked("Failed to unlock the collection!"), "locked"),
        (keyring.errors.InitError("Failed to create the collection"), "password collection"),
        (ConnectionRefusedError("dbus socket"), "failed"),
        (RuntimeError(f"backend echoed {SECRET}"), "failed"),
    ],
)
def test_backend_errors_become_one_line_credential_errors(exc: Exception, says: str) -> None:
    creds = Credentials(FailingKeyring(exc))
    for call in (lambda: creds.get("Office"), lambda: creds.set("Office", SECRET)):
        with pytest.raises(CredentialError) as info:
            call()
        message = str(info.value)
        assert says in message
        assert "try again" in message
        assert SECRET not in message
        assert "\n" not in message
        assert info.value.__cause__ is None
        assert info.value.__suppress_context__


# --- policy ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend",
    [fail.Keyring(), null.Keyring(), PlaintextKeyring(), EncryptedKeyring()],
    ids=["fail", "null", "plaintext", "encrypted"],
)
def test_insecure_backends_are_refused(backend: KeyringBackend) -> None:
    assert not is_secure_backend(backend)
    with pytest.raises(NoSecureKeyring) as info:
        secure_backend(backend)
    message = str(info.value)
    assert type(backend).__module__ in message
    assert "GNOME Keyring" in message


def test_a_chainer_of_only_insecure_backends_is_refused() -> None:
    chain = chain_of(fail.Keyring(), PlaintextKeyring())
    assert not is_secure_backend(chain)
    with pytest.raises(NoSecureKeyring):
        secure_backend(chain)
    with pytest.raises(NoSecureKeyring):
        secure_backend(chain_of())


def test_a_chainer_gives_its_first_secure_member() -> None:
    good = MemoryKeyring()
    chain = chain_of(PlaintextKeyring(), good, MemoryKeyring())
    assert is_secure_backend(chain)
    assert secure_backend(chain) is good


def test_secure_backend_is_used_as_is() -> None:
    good = MemoryKeyring()
    assert is_secure_backend(good)
    assert secure_backend(good) is good


def test_test_backend_is_never_auto_selected() -> None:
    assert not MemoryKeyring.viable
    assert is_secure_backend(MemoryKeyring())


@pytest.mark.parametrize(
    "configured", ["keyring.backends.null.Keyring", "keyring.backends.fail.Keyring", "no.such.Mod"]
)
def test_default_backend_comes_from_keyring_and_the_policy_applies(configured: str) -> None:
    # keyring caches its choice per process: ask a fresh one.
    code = (
        "from vms_tray.credentials import secure_backend\n"
        "from vms_tray.errors import NoSecureKeyring\n"
        "try:\n    secure_backend()\nexcept NoSecureKeyring as e:\n    print(e)\n"
    )
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": configured}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "keyring" in out.stdout
    assert out.stdout.count("\n") == 1


def test_open_credentials_falls_back_to_memory_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="vms_tray.credentials"):
        creds = open_credentials(fail.Keyring())
    assert not creds.persistent
    assert creds.warning is not None and "no secure keyring" in creds.warning
    assert "no secure keyring" in caplog.text
    creds.set("Office", SECRET)
    assert creds.get("Office") == SECRET
    assert SECRET not in caplog.text


def test_open_credentials_uses_a_secure_backend() -> None:
    backend = MemoryKeyring()
    creds = open_credentials(backend)
    assert creds.persistent and creds.warning is None
    creds.set("Office", SECRET)
    assert backend.entries[(SERVICE, "office")] == SECRET


class LookupKeyring(MemoryKeyring):
    """A backend that can tell whether a password is stored without reading it."""

    def get_password(self, service: str, username: str) -> str | None:
        raise AssertionError("has() must not read the secret")

    def has_password(self, service: str, username: str) -> bool:
        return (service, username) in self.entries


def test_has_asks_a_backend_that_can_tell_without_reading_the_secret() -> None:
    backend = LookupKeyring()
    creds = Credentials(backend)
    assert not creds.has("Office")
    creds.set("Office", SECRET)
    assert creds.has(" OFFICE ")
    assert backend.entries == {(SERVICE, "office"): SECRET}


def test_a_failing_lookup_is_a_one_line_credential_error() -> None:
    class Broken(LookupKeyring):
        def has_password(self, service: str, username: str) -> bool:
            raise keyring.errors.KeyringLocked("locked")

    with pytest.raises(CredentialError, match="the system keyring is locked"):
        Credentials(Broken()).has("Office")
