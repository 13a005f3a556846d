"""A ready-made demo: a data directory with a ``demo`` account and a running server for it.

``vms-tray demo`` (owned by the daemon side) calls ``start_demo_server`` and prints the login and
password it returns. The password is new on each start unless one is given: only its hash is
stored, so an old one could not be shown again.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from vms_tray.refserver.clock import ServerClock
from vms_tray.refserver.config import ServerConfig
from vms_tray.refserver.runner import ServerHandle, ServerOptions, Serving, open_store
from vms_tray.refserver.storage import Store
from vms_tray.refserver.tokens import hash_password

DEMO_LOGIN = "demo"
DEMO_MAX_SESSIONS = 2
_WORDS = "abcdefghjkmnpqrstuvwxyz23456789"


def new_demo_password() -> str:
    """Easy to type from a terminal: three groups of four, no look-alike characters."""
    return "-".join("".join(secrets.choice(_WORDS) for _ in range(4)) for _ in range(3))


H = TypeVar("H", bound=Serving)


@dataclass(frozen=True)
class DemoServer(Generic[H]):
    """A demo server running (ours, or the AIPIX simulator: its ``handle``) and its account."""

    handle: H
    login: str
    password: str = field(repr=False)

    @property
    def url(self) -> str:
        return self.handle.url

    @property
    def fingerprint(self) -> str:
        return self.handle.fingerprint

    def stop(self) -> None:
        self.handle.stop()


def reset_demo_account(store: Store, password: str, seats: int) -> None:
    """Create the ``demo`` account with ``password`` and ``seats``, or reset it to them."""
    hashed = hash_password(password)
    if store.get_user(DEMO_LOGIN) is None:
        store.add_user(DEMO_LOGIN, hashed, seats, time.time())
    else:
        store.set_password(DEMO_LOGIN, hashed)
        store.set_max_sessions(DEMO_LOGIN, seats)


def prepare_demo_data(data_dir: Path, password: str) -> None:
    """Create or reset the ``demo`` account (2 seats) in ``data_dir``."""
    store = open_store(data_dir)
    try:
        reset_demo_account(store, password, DEMO_MAX_SESSIONS)
    finally:
        store.close()


def start_demo_server(
    data_dir: Path,
    *,
    password: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    idle_timeout: float = 900.0,
    clock: ServerClock | None = None,
) -> DemoServer[ServerHandle]:
    """Set up ``data_dir`` and serve it over HTTPS (captcha after failures) in the background."""
    password = password or new_demo_password()
    prepare_demo_data(data_dir, password)
    config = ServerConfig(
        name="vms-tray demo server",
        captcha="after-failures",
        max_sessions=DEMO_MAX_SESSIONS,
        idle_timeout=idle_timeout,
    )
    handle = ServerHandle.start(
        data_dir, config=config, clock=clock, options=ServerOptions(host=host, port=port)
    )
    return DemoServer(handle, DEMO_LOGIN, password)
