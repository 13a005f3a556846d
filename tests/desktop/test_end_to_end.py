"""End to end on the real desktop: ``vms-tray demo`` (the reference server on loopback and the
real daemon) with the real tray, notifications and dialogs.

The demo account's two seats are taken by two other "devices", so vms-tray starts at the
session limit: the icon shows it, dunst shows a notice whose button opens the User sessions
dialog; ending the recommended session there signs vms-tray in.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest
from PIL import Image

from tests.desktop.conftest import (
    ARTIFACTS,
    HAVE_GI,
    ROOT,
    color_share,
    dunst_history,
    wait_for_tray_manager,
)
from tests.support import components
from tests.support.refserver import RefServer, refserver_factory  # noqa: F401 - fixture
from vms_tray.connections.model import Trust
from vms_tray.connections.store import ConnectionStore

pytestmark = pytest.mark.desktop

ORANGE = (0xE8, 0x59, 0x0C)  # the disc of "signed in, all seats in use"
GREY = (0x7D, 0x85, 0x90)  # the disc of the states without a seat
RED = (0xD6, 0x28, 0x28)  # the no-entry badge of "not signed in: limit reached"


def _share(desktop: components.Desktop, wid: str, color: tuple[int, int, int], name: str) -> float:
    shot = desktop.screenshot(ARTIFACTS / f"{name}-root.png")
    img = Image.open(shot).convert("RGB").crop(desktop.box(wid))
    img.save(ARTIFACTS / f"{name}.png")
    return color_share(img, color)


def _quit_cleanly(proc: subprocess.Popen[bytes], log: IO[str]) -> None:
    """SIGTERM signs vms-tray out and exits 0; a process that hangs is killed, failing the test."""
    proc.terminate()
    try:
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()


def test_demo_limit_notice_action_end_session_signs_in(
    desktop: components.Desktop, tmp_path: Path
) -> None:
    components.require("PyGObject", HAVE_GI, "pip install 'vms-tray[gtk]'")
    wait_for_tray_manager(desktop)
    # Close whatever earlier tests left on screen; only notices after theirs count here.
    before = max((n["id"]["data"] for n in dunst_history(desktop)), default=0)
    env = {
        **desktop.env,
        "PYSTRAY_BACKEND": "gtk",
        "VMS_TRAY_PROFILE": str(tmp_path / "profile"),
        "VMS_TRAY_LANG": "en",
    }
    log = (tmp_path / "demo.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "vms_tray", "demo"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    try:
        icon = desktop.wait_window("^vms-tray", 30, "the tray icon")
        components.wait_until(
            lambda: "Session limit reached" in desktop.xdotool("getwindowname", icon),
            30,
            "the limit in the tooltip",
        )
        # Blocked at the limit: a grey disc with a red no-entry badge, not the orange disc of
        # "signed in, all seats in use".
        components.wait_until(
            lambda: (
                _share(desktop, icon, GREY, "e2e-limit-icon") > 0.1
                and _share(desktop, icon, RED, "e2e-limit-icon") > 0.03
                and _share(desktop, icon, ORANGE, "e2e-limit-icon") < 0.03
            ),
            10,
            "the grey no-entry icon",
        )

        def displayed() -> int:
            out = subprocess.run(
                ["dunstctl", "count", "displayed"],
                env=desktop.env,
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout.strip()
            return int(out or 0)

        components.wait_until(lambda: displayed() > 0, 15, "the limit notification")
        # The notification's button ("Show sessions") opens the dialog through the daemon.
        subprocess.run(["dunstctl", "action", "0"], env=desktop.env, check=True, timeout=10)
        dialog = desktop.wait_window("^User sessions", 15, "the dialog")
        desktop.screenshot(ARTIFACTS / "e2e-sessions.png", window=dialog)
        desktop.xdotool("windowfocus", "--sync", dialog)
        desktop.xdotool("key", "Return")  # End session… on the recommended one
        confirm = desktop.wait_window("^End session", 15, "the question")
        desktop.xdotool("windowfocus", "--sync", confirm)
        desktop.xdotool("key", "Return")
        components.wait_until(
            lambda: (
                "limit" not in desktop.xdotool("getwindowname", icon)
                and "2 of 2 sessions" in desktop.xdotool("getwindowname", icon)
            ),
            30,
            "vms-tray to sign in on the freed seat",
        )
        # Signed in on the freed seat: "no free session" is withdrawn, and nothing announces
        # the full account again (the user just chose to take its last seat).
        components.wait_until(lambda: displayed() == 0, 15, "the limit notice to be withdrawn")
        titles = [n["summary"]["data"] for n in dunst_history(desktop) if n["id"]["data"] > before]
        assert any("no free session" in title for title in titles)
        assert not any("limit reached" in t or "all seats in use" in t for t in titles), titles
        components.wait_until(
            lambda: _share(desktop, icon, ORANGE, "e2e-full-icon") > 0.1, 10, "the orange icon"
        )
    finally:
        _quit_cleanly(proc, log)


def test_first_run_sign_in_and_captcha_dialogs_with_the_real_daemon(
    desktop: components.Desktop,
    tmp_path: Path,
    refserver_factory: Callable[..., RefServer],  # noqa: F811
    isolated_profile: Path,
) -> None:
    """No password stored: the sign-in dialog opens by itself; the server asks for a captcha,
    whose dialog opens next; typing both into the real Tk windows signs vms-tray in."""
    components.require("PyGObject", HAVE_GI, "pip install 'vms-tray[gtk]'")
    wait_for_tray_manager(desktop)
    server = refserver_factory(users={"anna": "correct horse"}, captcha="always")
    ConnectionStore().update(
        lambda lst: lst.add(
            "office", server.url, "anna", trust=Trust(mode="pinned", pin_sha256=server.fingerprint)
        )
    )
    env = {
        **desktop.env,
        "PYSTRAY_BACKEND": "gtk",
        "VMS_TRAY_PROFILE": str(isolated_profile),
        "VMS_TRAY_LANG": "en",
    }
    log = (tmp_path / "run.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "vms_tray", "--debug", "run"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    try:
        login = desktop.wait_window("^Sign in", 30, "the sign-in dialog")
        desktop.xdotool("windowfocus", "--sync", login)
        desktop.xdotool("type", "--delay", "5", "correct horse")
        desktop.xdotool("key", "Return")
        captcha = desktop.wait_window("^Captcha", 30, "the captcha dialog")
        desktop.screenshot(ARTIFACTS / "e2e-captcha.png", window=captcha)
        answer = server.captcha_log.read_text(encoding="utf-8").splitlines()[-1].split(" ", 1)[1]
        desktop.xdotool("windowfocus", "--sync", captcha)
        desktop.xdotool("type", "--delay", "5", answer)
        desktop.xdotool("key", "Return")
        # The icon's window is named by its tooltip; GTK may unmap and remap it while the icon
        # changes, so it is looked up afresh each time rather than kept.
        components.wait_until(
            lambda: bool(desktop.windows("^vms-tray(.|\n)*1 of 2 sessions")),
            30,
            "the tray icon to say vms-tray is signed in",
        )
        # The dialog closes once the sign-in it waited on is done (within a poll of its input).
        components.wait_until(
            lambda: not desktop.windows("^Captcha") and not desktop.windows("^Sign in"),
            10,
            "the dialogs to close",
        )
    finally:
        _quit_cleanly(proc, log)
    text = (tmp_path / "run.log").read_text()
    assert "correct horse" not in text and answer not in text  # no secret reaches the log
