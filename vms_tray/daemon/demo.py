"""``vms-tray demo``: the reference server on loopback and vms-tray against it, in a profile of
its own (``<data dir>/demo``) so the user's real servers and passwords are never touched."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from vms_tray import paths
from vms_tray.connection import Connection, Trust

if TYPE_CHECKING:
    from vms_tray.server.runner import ServerHandle

log = logging.getLogger(__name__)

PASSWORD = "demo"  # noqa: S105 - the documented password of the local demo accounts
MAIN = "vms-tray-demo"
FULL = "vms-tray-demo-full"
OTHER_DEVICE = ("OPS-PC-12", "vms-tray", "1.0")


class DemoPasswords:
    """The demo accounts' password, known without a keyring (nothing is stored anywhere)."""

    def get(self, connection: Connection) -> str | None:
        return PASSWORD if connection.name in (MAIN, FULL) else None

    def set(self, connection: Connection, password: str) -> None:
        pass


def demo_dir() -> Path:
    return paths.data_dir() / "demo"


def _prepare_server(root: Path) -> ServerHandle:
    from vms_tray.server.runner import ServerHandle, ServerOptions
    from vms_tray.server.service import ClientInfo, ServerConfig
    from vms_tray.server.throttle import ThrottlePolicy

    config = ServerConfig(
        name="vms-tray demo server",
        captcha="after-failures",  # a wrong password or two brings up the captcha
        max_sessions=3,
        idle_timeout=None,  # the other device's session stays until someone ends it
        throttle=ThrottlePolicy(captcha_after=2),
    )
    handle = ServerHandle.start(root / "server", config=config, options=ServerOptions())
    service = handle.service
    if service.store.get_user("operator") is None:
        service.add_user("operator", PASSWORD, 3)
    if service.store.get_user("shared") is None:
        service.add_user("shared", PASSWORD, 1)
    if service.store.count_active("shared") == 0:
        # Someone else already holds the only seat of "shared": the limit dialog on sign-in.
        service.sign_in("shared", PASSWORD, ClientInfo(*OTHER_DEVICE), "10.0.0.12")
    return handle


def _prepare_profile(url: str, fingerprint: str) -> None:
    from vms_tray.config import ConnectionList, ConnectionStore

    trust = Trust(mode="pinned", pin_sha256=fingerprint)

    def ensure(lst: ConnectionList) -> ConnectionList:
        for name, login in ((MAIN, "operator"), (FULL, "shared")):
            if lst.find(name) is None:
                lst = lst.add(name, url, login, trust=trust, make_default=name == MAIN)
            else:  # a new port each run; the certificate (and its pin) stays
                lst = lst.edit(name, url=url, login=login, trust=trust)
        return lst

    ConnectionStore().update(ensure)


def _instructions(url: str, profile: Path, headless: bool) -> str:
    env = f"VMS_TRAY_PROFILE={profile}"
    lines = [
        f"vms-tray demo: a local demo server at {url}",
        f"  its own profile: {profile} (your servers and passwords are not touched)",
        f'  accounts (password "{PASSWORD}"):',
        f"    {MAIN:<20} login operator, 3 seats (vms-tray signs in to it now)",
        f"    {FULL:<20} login shared, 1 seat, already taken by {OTHER_DEVICE[0]}",
        "  things to try:",
        f"    - switch to {FULL}: the session limit is reached; end "
        f"{OTHER_DEVICE[0]}'s session, or wait",
        "    - sign in with a wrong password twice: the next sign-in asks for a captcha",
        "    - quit: vms-tray signs out and frees its seat",
    ]
    if headless:
        lines += [
            "  no tray here: drive it from another terminal, e.g.",
            f"    {env} vms-tray status",
            f"    {env} vms-tray sessions",
            f"    {env} vms-tray switch {FULL}",
            f"    {env} vms-tray sessions end ID",
            f"    {env} vms-tray wait",
            f"    {env} vms-tray signout",
            f"    {env} vms-tray signin --ask-password   (wrong twice, then right: captcha)",
            f"    {env} vms-tray captcha save captcha.png && {env} vms-tray captcha answer CODE",
            f"    {env} vms-tray quit",
        ]
    return "\n".join(lines)


def _has_display() -> bool:
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_demo(headless: bool = False, debug: bool = False) -> int:
    from vms_tray.daemon.runner import run

    root = demo_dir()
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    profile = root / "profile"
    # Everything from here on (config, logs, socket) lives in the demo profile.
    os.environ["VMS_TRAY_PROFILE"] = str(profile)
    handle = _prepare_server(root)
    try:
        url, fingerprint = handle.url, handle.fingerprint
        _prepare_profile(url, fingerprint)
        headless = headless or not _has_display()
        print(_instructions(url, profile, headless), file=sys.stderr, flush=True)
        return run(MAIN, headless, debug, passwords=DemoPasswords())
    finally:
        handle.stop()
