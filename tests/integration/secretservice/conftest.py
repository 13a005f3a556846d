"""A gnome-keyring of a test's own, on a private D-Bus session: for what would spoil the
session-wide one (locking it, restarting it, pressing it until it could die)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import components


class OwnKeyring:
    def __init__(self, session: components.DBusSession, stack: contextlib.ExitStack) -> None:
        self.session = session
        self._stack = stack
        self.watched: dict[str, components.Watched] = {}
        self._running: contextlib.ExitStack | None = None

    def start(self) -> None:
        self._running = self._stack.enter_context(contextlib.ExitStack())
        self._running.enter_context(components.secret_service(self.session, watch=self.watched))

    def restart(self) -> None:
        """Stop the daemon and start another on the same keyring file (unlocked again)."""
        assert self._running is not None
        self._running.close()
        self.start()

    def death(self) -> str | None:
        return self.watched["gnome-keyring-daemon"].death()


@pytest.fixture
def own_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OwnKeyring]:
    home, runtime = tmp_path / "home", tmp_path / "runtime"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    base = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime)}
    base.pop("DBUS_SESSION_BUS_ADDRESS", None)
    base.pop("DISPLAY", None)  # so an unlock prompt cannot be shown
    with contextlib.ExitStack() as stack:
        session = stack.enter_context(components.dbus_session(base, tmp_path))
        keyring = OwnKeyring(session, stack)
        keyring.start()
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session.address)
        yield keyring
