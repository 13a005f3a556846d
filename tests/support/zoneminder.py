"""The real ZoneMinder server that ``scripts/setup-zoneminder`` (as root) sets up on loopback.

The script writes its settings to ``/var/lib/vms-tray-zm/env`` (``VMS_TRAY_ZM_ENV`` points
elsewhere). Without that file, or with the server not answering, tests that need ZoneMinder
skip on a laptop and fail in CI (``components.require``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tests.support import components
from vms_tray.connections.model import Connection, Trust

ENV_FILE = Path(os.environ.get("VMS_TRAY_ZM_ENV", "/var/lib/vms-tray-zm/env"))
HINT = "run 'sudo scripts/setup-zoneminder' to set up a local ZoneMinder server"


def pem_fingerprint(path: Path) -> str:
    der = ssl.PEM_cert_to_DER_cert(path.read_text())
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


@dataclass(frozen=True)
class ZoneMinderSetup:
    url: str  # web root with the snakeoil certificate, e.g. https://127.0.0.1:8443/zm
    alt_url: str  # the same server behind a different certificate
    cert: Path
    alt_cert: Path
    user: str
    password: str
    noapi_user: str
    noapi_password: str
    db_user: str
    db_password: str
    db_name: str

    @property
    def fingerprint(self) -> str:
        return pem_fingerprint(self.cert)

    @property
    def alt_fingerprint(self) -> str:
        return pem_fingerprint(self.alt_cert)

    def connection(
        self, name: str = "zm", *, url: str | None = None, trust: Trust | None = None
    ) -> Connection:
        """A zoneminder connection pinned to the snakeoil certificate unless told otherwise."""
        return Connection(
            name=name,
            url=url or self.url,
            login=self.user,
            kind="zoneminder",
            trust=trust or Trust(mode="pinned", pin_sha256=self.fingerprint),
        )

    def sql(self, statement: str) -> str:
        components.require_binary("mysql")
        out = subprocess.run(
            ["mysql", "--batch", "--skip-column-names", "-u", self.db_user, self.db_name],
            input=statement,
            env={**os.environ, "MYSQL_PWD": self.db_password},
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
        return out.stdout.strip()

    def revoke_tokens(self, login: str | None = None) -> None:
        """Make every token issued to ``login`` so far worthless, as expiry would.

        ZoneMinder's shortest token lifetime is an hour, so tests revoke instead: a token whose
        ``iat`` is older than ``Users.TokenMinExpiry`` is refused ("Token revoked"). Tokens
        carry whole seconds, so this first waits for the next second to begin: everything
        issued before is revoked, and a sign-in from now on is valid.
        """
        second = int(time.time())
        components.wait_until(lambda: int(time.time()) > second, 3, "the next second")
        self.update_user(login or self.user, "TokenMinExpiry = UNIX_TIMESTAMP()")

    def update_user(self, login: str, assignments: str) -> None:
        if not login.replace("-", "").isalnum():
            raise ValueError(f"unexpected ZoneMinder user name {login!r}")
        # Test-only SQL; the name is checked above and the assignments are the tests' own.
        self.sql(f"UPDATE Users SET {assignments} WHERE Username = '{login}';")  # noqa: S608

    def password_hash(self, login: str) -> str:
        if not login.replace("-", "").isalnum():
            raise ValueError(f"unexpected ZoneMinder user name {login!r}")
        return self.sql(f"SELECT Password FROM Users WHERE Username = '{login}';")  # noqa: S608

    @contextlib.contextmanager
    def password_changed(self, login: str | None = None) -> Iterator[None]:
        """The administrator changes ``login``'s password (to one the tests do not know), and
        changes it back afterwards."""
        login = login or self.user
        original = self.password_hash(login)
        if not original.startswith("$2"):
            raise RuntimeError(f"unexpected password hash format for {login!r}")
        # bcrypt of "admin" (ZoneMinder's own default, from zm_create.sql).
        self.update_user(
            login, "Password = '$2b$12$NHZsm6AM2f2LQVROriz79ul3D6DnmFiZC.ZK5eqbF.ZWfwH9bqUJ6'"
        )
        try:
            yield
        finally:
            self.update_user(login, f"Password = '{original}'")

    def reset(self) -> None:
        """Undo what tests do to the test user: revocations, withdrawn API access."""
        self.update_user(self.user, "TokenMinExpiry = 0, APIEnabled = 1, Enabled = 1")


def _read_env(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "", parts.port or 443), timeout=3):
            return True
    except OSError:
        return False


def require_zoneminder() -> ZoneMinderSetup:
    """The set-up server, or skip (laptop) / fail (CI) with how to set it up."""
    components.require("ZoneMinder test server", ENV_FILE.is_file(), f"{ENV_FILE} missing: {HINT}")
    env = _read_env(ENV_FILE)
    try:
        setup = ZoneMinderSetup(
            url=env["VMS_TRAY_ZM_URL"],
            alt_url=env["VMS_TRAY_ZM_ALT_URL"],
            cert=Path(env["VMS_TRAY_ZM_CERT"]),
            alt_cert=Path(env["VMS_TRAY_ZM_ALT_CERT"]),
            user=env["VMS_TRAY_ZM_USER"],
            password=env["VMS_TRAY_ZM_PASSWORD"],
            noapi_user=env["VMS_TRAY_ZM_NOAPI_USER"],
            noapi_password=env["VMS_TRAY_ZM_NOAPI_PASSWORD"],
            db_user=env["VMS_TRAY_ZM_DB_USER"],
            db_password=env["VMS_TRAY_ZM_DB_PASSWORD"],
            db_name=env["VMS_TRAY_ZM_DB_NAME"],
        )
    except KeyError as missing:
        raise RuntimeError(f"{ENV_FILE} lacks {missing}: re-run scripts/setup-zoneminder") from None
    components.require(
        "ZoneMinder test server", _answers(setup.url), f"nothing answers at {setup.url}: {HINT}"
    )
    return setup
