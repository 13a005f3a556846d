"""``vms-tray demo``: the reference server on loopback and vms-tray against it, in a profile of
its own (``<data dir>/demo``) so the user's real servers and passwords are never touched.

The demo account (``vms_tray.refserver.demo``: 2 seats, captcha after failed sign-ins, a new
password each start) is full when vms-tray starts: two other "devices" hold its seats, so the
first thing the user sees is the session-limit choice (end one, or wait until an idle one times
out).

This module imports the reference server and the whole app at its top: only ``vms-tray demo``
imports it (inside the command, ``vms_tray.cli.daemon``), so ``vms-tray --help`` and the other
commands never pay for it.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import sys
import time
from collections.abc import MutableMapping
from pathlib import Path

from vms_tray import paths
from vms_tray.app.demo_aipix import AipixDemo, aipix_lines, demo_data, start_aipix_demo
from vms_tray.app.runner import run
from vms_tray.autostart import ENV_DIR
from vms_tray.connections.model import Connection, Trust
from vms_tray.connections.rules import ConnectionList
from vms_tray.connections.store import ConnectionStore
from vms_tray.refserver.demo import DemoServer, start_demo_server
from vms_tray.refserver.runner import ServerHandle
from vms_tray.refserver.service import ClientDescription

log = logging.getLogger(__name__)

NAME = "vms-tray-demo"
OTHER_DEVICES = ("OPS-PC-12", "OPS-PC-13")
IDLE_TIMEOUT = 300.0  # an idle seat frees after 5 minutes: "wait" visibly works


class DemoPasswords:
    """The demo account's password, held in memory only (the keyring is never touched)."""

    def __init__(self, password: str) -> None:
        self._password = password

    def get(self, connection: Connection) -> str | None:
        return self._password if connection.name == NAME else None

    def has(self, connection: Connection) -> bool:
        return self.get(connection) is not None

    def set(self, connection: Connection, password: str) -> None:
        if connection.name == NAME:
            self._password = password


def demo_dir() -> Path:
    return paths.data_dir() / "demo"


def _start_server(root: Path) -> DemoServer[ServerHandle]:
    demo = start_demo_server(root / "server", idle_timeout=IDLE_TIMEOUT)
    service = demo.handle.service
    store = service.store
    # A fresh start: sessions left by an earlier run (a crash, a kill) would hold seats.
    now = time.time()
    for s in store.active_sessions(demo.login):
        store.end_session(s.id, now, "logout")
    for i, device in enumerate(OTHER_DEVICES):
        service.sign_in(
            demo.login,
            demo.password,
            ClientDescription(device, "vms-tray", "1.0"),
            f"10.0.0.{12 + i}",
        )
    return demo


def _prepare_profile(url: str, login: str, fingerprint: str, kind: str = "native") -> None:
    trust = Trust(mode="pinned", pin_sha256=fingerprint)

    def ensure(lst: ConnectionList) -> ConnectionList:
        if lst.find(NAME) is None:
            return lst.add(NAME, url, login, kind=kind, trust=trust, make_default=True)
        # A new port each run; the certificate (and so its pin) stays; the kind follows the
        # demo's flavour.
        return lst.edit(NAME, url=url, login=login, kind=kind, trust=trust)

    ConnectionStore().update(ensure)


def _command() -> str:
    """How to call vms-tray from another terminal: the bare name only when it is on PATH (a
    checkout's scripts/demo runs it from .venv/bin, which is not)."""
    here = Path(sys.executable).parent / "vms-tray"
    found = shutil.which("vms-tray")
    if found and Path(found).resolve() == here.resolve():
        return "vms-tray"
    return shlex.quote(str(here)) if here.exists() else "vms-tray"


def _keep_autostart_in(profile: Path, env: MutableMapping[str, str]) -> Path:
    """ "Start at login" in the demo writes its entry into the profile and nowhere else (the
    real ``~/.config/autostart`` would start vms-tray at every login, outside the demo)."""
    folder = profile / "autostart"
    env[ENV_DIR] = str(folder)
    return folder


def _instructions(demo: DemoServer[ServerHandle] | AipixDemo, profile: Path, headless: bool) -> str:
    env = f"VMS_TRAY_PROFILE={shlex.quote(str(profile))} {_command()}"
    lines = [
        f"vms-tray demo: a local demo server at {demo.url}",
        f"  its own profile: {profile} (your servers and passwords are not touched;",
        f"  'Start at login' only writes {profile / 'autostart'}: nothing starts at login)",
        f"  account: login {demo.login}, password {demo.password} (new each start), 2 seats",
    ]
    if isinstance(demo.handle, ServerHandle):
        lines += [
            f"  both seats are taken by {' and '.join(OTHER_DEVICES)}: things to try",
            "    - end one of their sessions (vms-tray then signs in), or wait: an idle seat frees",
            f"      after {IDLE_TIMEOUT / 60:.0f} minutes and vms-tray signs in by itself",
            "    - sign out, then sign in with a wrong password a few times: a captcha appears",
            "    - quit: vms-tray signs out and frees its seat",
        ]
    else:
        lines += aipix_lines(IDLE_TIMEOUT)
    if headless:
        lines += [
            "  no tray here: drive it from another terminal, e.g.",
            f"    {env} status",
            f"    {env} sessions",
            f"    {env} sessions end --yes -- ID",
            f"    {env} wait",
            f"    {env} signout",
            f"    {env} signin --ask-password",
            f"    {env} captcha save captcha.png",
            f"    {env} captcha answer -",
            f"    {env} quit",
        ]
    return "\n".join(lines)


def _has_display() -> bool:
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _direct_to_loopback(env: MutableMapping[str, str]) -> None:
    """The demo server listens on loopback in this process: a desktop's https_proxy must not
    sit between them (a corporate proxy cannot reach this computer's 127.0.0.1)."""
    listed = env.get("no_proxy") or env.get("NO_PROXY") or ""
    env["no_proxy"] = ",".join(part for part in (listed, "127.0.0.1") if part)


def run_demo(headless: bool = False, debug: bool = False, flavor: str = "native") -> int:
    root = demo_dir()
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    profile = root / "profile"
    # Everything from here on (config, logs, socket) lives in the demo profile.
    os.environ["VMS_TRAY_PROFILE"] = str(profile)
    _keep_autostart_in(profile, os.environ)
    _direct_to_loopback(os.environ)
    demo: DemoServer[ServerHandle] | AipixDemo
    if flavor == "aipix":
        demo = start_aipix_demo(demo_data(root), idle_timeout=IDLE_TIMEOUT)
    else:
        demo = _start_server(root)
    try:
        kind = "aipix" if flavor == "aipix" else "native"
        _prepare_profile(demo.url, demo.login, demo.fingerprint, kind)
        headless = headless or not _has_display()
        print(_instructions(demo, profile, headless), file=sys.stderr, flush=True)
        return run(NAME, headless, debug, passwords=DemoPasswords(demo.password))
    finally:
        demo.stop()
