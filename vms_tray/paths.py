"""Where vms-tray keeps its files.

platformdirs gives the platform's user directories (and honours ``XDG_*`` on Linux).
``VMS_TRAY_PROFILE`` points every directory into one folder: the demo and the tests use it so they
never touch the user's real profile.

The administrator's files (the managed server list, the policy) live in the system configuration
folders: ``$XDG_CONFIG_DIRS`` (``/etc/xdg/vms-tray``) on Linux, ``%ProgramData%\\vms-tray`` on
Windows, ``/Library/Application Support/vms-tray`` on macOS. ``VMS_TRAY_SYSTEM_CONFIG=DIR`` names
that folder instead (tests, and administrators trying a file out); under ``VMS_TRAY_PROFILE`` it is
``<profile>/system``, so a test never reads the machine's real policy.
"""

from __future__ import annotations

import os
import stat
import sys
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


def system_config_dirs() -> list[Path]:
    """The administrator's folders, the first one most important (XDG's order)."""
    value = os.environ.get("VMS_TRAY_SYSTEM_CONFIG")
    if value:
        return [Path(value)]
    p = _profile()
    if p:
        return [p / "system"]
    found = platformdirs.site_config_dir(APP_NAME, appauthor=False, multipath=True)
    return [Path(d) for d in found.split(os.pathsep) if d]


def system_file(name: str) -> Path:
    """``name`` in the first system folder that holds it (else in the first folder)."""
    dirs = system_config_dirs()
    for d in dirs:
        if (d / name).exists():
            return d / name
    return dirs[0] / name


def system_servers_file() -> Path:
    return system_file("servers.toml")


def policy_file() -> Path:
    return system_file("policy.toml")


def data_dir() -> Path:
    p = _profile()
    return p / "data" if p else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    p = _profile()
    return p / "log" if p else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def _usable_xdg_runtime(value: str | None) -> Path | None:
    """``$XDG_RUNTIME_DIR`` when it is what the XDG spec promises: an absolute path to a real
    directory (not a link) of the user's, mode 0700."""
    if not value or not os.path.isabs(value):
        return None
    try:
        st = os.lstat(value)
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) == 0o700:
        return Path(value)
    return None


def runtime_dir() -> Path:
    """Per-user, private: holds the control socket and the single-instance lock.

    On Linux and the BSDs, ``$XDG_RUNTIME_DIR/vms-tray``; when that variable is unset or names
    no private directory (a cron job, ``su``, a container), ``<state dir>/run`` in the user's
    home instead. Not platformdirs' fallback: it warns (``RuntimeDirWarning``) on every command,
    and its ``/tmp/runtime-<uid>`` is a predictable name in a shared folder, which another user
    can create first.
    """
    p = _profile()
    if p:
        return p / "run"
    if sys.platform not in ("win32", "darwin"):
        xdg = _usable_xdg_runtime(os.environ.get("XDG_RUNTIME_DIR"))
        if xdg is None:
            return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False)) / "run"
        return xdg / APP_NAME
    return Path(platformdirs.user_runtime_dir(APP_NAME, appauthor=False))
