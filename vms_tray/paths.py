"""Where vms-tray keeps its files.

platformdirs gives the platform's user directories (and honours ``XDG_*`` on Linux).
``VMS_TRAY_PROFILE`` points every directory into one folder: the demo and the tests use it so they
never touch the user's real profile.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from vms_tray import APP_NAME


def _profile() -> Path | None:
    value = os.environ.get("VMS_TRAY_PROFILE")
    return Path(value) if value else None


def config_dir() -> Path:
    p = _profile()
    return p / "config" if p else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    return config_dir() / "servers.toml"


def settings_file() -> Path:
    return config_dir() / "settings.toml"


def data_dir() -> Path:
    p = _profile()
    return p / "data" if p else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    p = _profile()
    return p / "log" if p else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def runtime_dir() -> Path:
    """Per-user, private: holds the control socket and the single-instance lock."""
    p = _profile()
    if p:
        return p / "run"
    return Path(platformdirs.user_runtime_dir(APP_NAME, appauthor=False))
