"""Helpers shared by the desktop suite: dunst history, screenshots kept as artifacts, the tray host
being ready (trayer owning the tray selection)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.support import components

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"
HAVE_GI = importlib.util.find_spec("gi") is not None


def wait_for_tray_manager(desktop: components.Desktop) -> None:
    """trayer's window exists before it owns the tray selection; icons need the owner."""
    from Xlib import X, display

    d = display.Display(desktop.display)
    try:
        atom = d.intern_atom("_NET_SYSTEM_TRAY_S0")
        components.wait_until(
            lambda: d.get_selection_owner(atom) != X.NONE, 15, "trayer to own the tray selection"
        )
    finally:
        d.close()


def dunst_history(desktop: components.Desktop) -> list[dict[str, Any]]:
    """Every notification dunst has shown, newest first (closes the open ones first)."""
    subprocess.run(["dunstctl", "close-all"], env=desktop.env, check=True, timeout=10)
    out = subprocess.run(
        ["dunstctl", "history"],
        env=desktop.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    )
    data = json.loads(out.stdout)["data"]
    return list(data[0]) if data else []


def summaries(desktop: components.Desktop) -> list[tuple[str, str]]:
    return [(n["summary"]["data"], n["body"]["data"]) for n in dunst_history(desktop)]


def color_share(img: Image.Image, color: tuple[int, int, int], tol: int = 40) -> float:
    """The share of ``img``'s pixels within ``tol`` of ``color`` in every channel."""
    raw = img.convert("RGB").tobytes()
    px = [raw[i : i + 3] for i in range(0, len(raw), 3)]
    close = sum(1 for p in px if all(abs(a - b) <= tol for a, b in zip(p, color, strict=True)))
    return close / len(px)


def crop_to_content(path: Path, margin: int = 8) -> Path:
    """Trim the black Xvfb background off a root-window screenshot (for docs/screenshots)."""
    img = Image.open(path).convert("RGB")
    box = img.point(lambda v: 255 if v > 12 else 0).getbbox()
    if box:
        x0, y0, x1, y1 = box
        img = img.crop(
            (
                max(0, x0 - margin),
                max(0, y0 - margin),
                min(img.width, x1 + margin),
                min(img.height, y1 + margin),
            )
        )
        img.save(path)
    return path


@pytest.fixture
def artifact_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def keep(src: Path, name: str) -> Path:
    """Copy a screenshot into artifacts/screenshots/ (gitignored) for humans to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    dst = ARTIFACTS / name
    shutil.copyfile(src, dst)
    return dst


class DialogDriver:
    """Opens a real dialog child process on the test desktop and drives it with xdotool."""

    def __init__(self, desktop: components.Desktop) -> None:
        from vms_tray.dialogs.launcher import DialogLauncher

        self.desktop = desktop
        self.launcher = DialogLauncher(env={**desktop.env, "VMS_TRAY_LANG": "en"})
        self.answers: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []

    def open(self, name: str, request: dict[str, Any], title: str) -> tuple[Any, str]:
        handle = self.launcher.open(name, request, self.answers.append, self.events.append)
        assert handle is not None
        wid = self.window(title)
        return handle, wid

    def window(self, title: str, timeout: float = 15) -> str:
        found: list[str] = []

        def visible() -> bool:
            r = subprocess.run(
                ["xdotool", "search", "--onlyvisible", "--name", title],
                env=self.desktop.env,
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            )
            found[:] = r.stdout.split()
            return bool(found)

        components.wait_until(visible, timeout, f"a window titled {title!r}")
        return found[-1]

    def focus(self, wid: str) -> None:
        self.desktop.xdotool("windowfocus", "--sync", wid)

    def type(self, text: str) -> None:
        self.desktop.xdotool("type", "--delay", "5", text)

    def key(self, *keys: str) -> None:
        self.desktop.xdotool("key", "--delay", "20", *keys)

    def shot(self, wid: str, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        return self.desktop.screenshot(ARTIFACTS / name, window=wid)

    def close(self) -> None:
        self.launcher.close_all(timeout=5)


@pytest.fixture
def dialogs(desktop: components.Desktop) -> Any:
    driver = DialogDriver(desktop)
    yield driver
    driver.close()
