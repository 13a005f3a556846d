"""Helpers shared by the desktop suite: dunst history, screenshots kept as artifacts."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support import components

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"


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
