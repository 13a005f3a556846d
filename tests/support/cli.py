"""The ``vms-tray`` command run as a user runs it: the real entry point in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

TIMEOUT = 60


def cli_env(profile: Path, **extra: str) -> dict[str, str]:
    """The environment of a CLI run in ``profile``, plus ``extra`` variables."""
    env = {**os.environ, "VMS_TRAY_PROFILE": str(profile), **extra}
    # Never the user's keyring or session bus: these runs see "no secure keyring".
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    return env


def run_cli(
    env: dict[str, str], *args: str, stdin: str | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vms_tray", *args],
        env=env,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        **kwargs,
    )
