"""The first start's offer to put a launcher on the desktop, made once per user.

On the first start of the tray (``vms-tray run`` with a tray; never headless, never the CLI) the
``desktop_offer`` dialog asks "Put a vms-tray launcher on your desktop?". The answer, either way,
is remembered in ``offers.json`` in the user's data folder (written atomically), so it is never
asked again; ``vms-tray desktop-launcher add|remove`` is there for a change of mind. Only an
answer the user gave counts: a dialog closed because the tray quit asks again next start.

No offer is made when there is nothing to offer: no desktop folder (a bare window manager), the
launcher is there already (remembered as added), or ``VMS_TRAY_AUTOSTART_DIR`` is set, which
means "register nothing with this desktop" (the demo's isolated profile).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from vms_tray import paths, safefs
from vms_tray.autostart import ENV_DIR
from vms_tray.autostart.base import System
from vms_tray.autostart.desktop_launcher import DesktopLauncher
from vms_tray.text import command_line
from vms_tray.tray.dialog_host import DialogHost

log = logging.getLogger(__name__)

DIALOG = "desktop_offer"
KEY = "desktop_launcher"
ADDED, DECLINED = "added", "declined"


class Launcher(Protocol):
    """:class:`~vms_tray.autostart.desktop_launcher.DesktopLauncher` as the offer uses it."""

    def folder(self) -> Path | None: ...

    def present(self) -> bool: ...

    def add(self) -> list[Path]: ...


def offers_file() -> Path:
    return paths.data_dir() / "offers.json"


class Offers:
    """``offers.json``: what the user answered to each one-time offer, and when."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or offers_file()

    def read(self) -> dict[str, Any]:
        try:
            data = json.loads(safefs.read_regular(self.path, safefs.CONFIG_LIMIT))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, safefs.UnsafePath) as exc:
            # Unreadable: treated as answered, so a broken file never brings the offer back.
            log.warning("cannot read %s (%s); making no offers", self.path, exc)
            return {KEY: {"answer": "unknown"}}
        return data if isinstance(data, dict) else {}

    def answer(self, key: str) -> str | None:
        entry = self.read().get(key)
        return str(entry.get("answer")) if isinstance(entry, dict) else None

    def remember(self, key: str, answer: str) -> None:
        data = self.read()
        data[key] = {"answer": answer, "at": datetime.now(UTC).isoformat(timespec="seconds")}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            safefs.write_atomic(self.path, json.dumps(data, indent=1).encode() + b"\n", 0o600)
        except OSError as exc:
            log.warning("cannot remember the answer in %s: %s", self.path, exc)


def default_launcher() -> Launcher | None:
    try:
        return DesktopLauncher(System.current())
    except Exception as exc:  # AutostartError: not a Linux/BSD desktop, or no interpreter path
        log.info("no desktop launcher here: %s", exc)
        return None


class DesktopOffer:
    def __init__(
        self,
        dialogs: DialogHost,
        *,
        launcher: Callable[[], Launcher | None] = default_launcher,
        offers: Offers | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.dialogs = dialogs
        self.make_launcher = launcher
        self.offers = offers or Offers()
        self.env = env

    def run(self) -> None:
        """:meth:`maybe_offer` as a tray job."""
        self.maybe_offer()

    def maybe_offer(self) -> bool:
        """Open the offer if it is due; returns whether it was opened. Never raises: the offer
        must not stop the tray from starting."""
        try:
            return self._maybe_offer()
        except Exception:
            log.exception("the desktop launcher offer failed")
            return False

    def _maybe_offer(self) -> bool:
        env = os.environ if self.env is None else self.env
        if env.get(ENV_DIR, "").strip():
            return False
        answer = self.offers.answer(KEY)
        if answer is not None:
            log.info("desktop launcher: offered before (%s)", answer)
            return False
        launcher = self.make_launcher()
        if launcher is None:
            return False
        folder = launcher.folder()
        if folder is None:
            log.info("no desktop folder: no launcher to offer")
            return False
        if launcher.present():
            self.offers.remember(KEY, ADDED)
            return False
        log.info("offering a launcher on the desktop (%s)", folder)
        request = {"folder": str(folder), "command": command_line("desktop-launcher", "add")}
        self.dialogs.open(DIALOG, request, lambda answer: self.answered(launcher, answer))
        return True

    def answered(self, launcher: Launcher, answer: dict[str, Any]) -> None:
        action = answer.get("action")
        if action == "add":
            self.offers.remember(KEY, ADDED)
            try:
                for path in launcher.add():
                    log.info("desktop launcher: wrote %s", path)
            except Exception as exc:
                log.error(
                    "could not put the launcher on the desktop: %s (try again with %s)",
                    exc,
                    command_line("desktop-launcher", "add"),
                )
        elif action == "not_now":
            self.offers.remember(KEY, DECLINED)
            log.info(
                "desktop launcher declined; %s adds it", command_line("desktop-launcher", "add")
            )
