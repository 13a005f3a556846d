"""The daemon's tunables: ``[daemon]`` in settings.toml, overridden by ``VMS_TRAY_*`` variables.

The environment overrides exist for tests and the demo (short intervals); users edit the file.
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from vms_tray import paths, safefs
from vms_tray.connections.policy import Policy, load_policy
from vms_tray.errors import ConfigError
from vms_tray.session.policies import Timing

log = logging.getLogger(__name__)


# The engine's timing defaults are the daemon's defaults: one place says what they are.
_TIMING = Timing()


@dataclass(frozen=True)
class DaemonSettings:
    poll_interval: float = _TIMING.poll_interval
    warn_margin: int = _TIMING.warn_margin
    seat_retry_interval: float = _TIMING.seat_retry_interval
    live_poll_interval: float = _TIMING.live_poll_interval  # while the events stream is up
    backoff_initial: float = _TIMING.backoff_initial
    backoff_cap: float = _TIMING.backoff_cap
    heartbeat_interval: float = 10.0
    jump_tolerance: float = 5.0
    request_timeout: float = 10.0
    sign_out_timeout: float = 1.5  # quit must free the seat within 2 s

    def timing(self) -> Timing:
        return Timing(
            poll_interval=self.poll_interval,
            warn_margin=self.warn_margin,
            seat_retry_interval=self.seat_retry_interval,
            live_poll_interval=self.live_poll_interval,
            backoff_initial=self.backoff_initial,
            backoff_cap=self.backoff_cap,
        )


_LIMITS: Mapping[str, tuple[float, float]] = {
    "poll_interval": (0.2, 86400),
    "warn_margin": (0, 1000),
    "seat_retry_interval": (0.2, 86400),
    "live_poll_interval": (0.2, 86400),
    "backoff_initial": (0.05, 3600),
    "backoff_cap": (0.1, 86400),
    "heartbeat_interval": (0.1, 3600),
    "jump_tolerance": (0.5, 3600),
    "request_timeout": (0.5, 300),
    "sign_out_timeout": (0.1, 1.8),
}


def _coerce(name: str, value: Any, where: str) -> float | int:
    kind = int if name == "warn_margin" else float
    if isinstance(value, bool):
        raise ValueError(f"{where}: {name} must be a number")
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {name} must be a number") from None
    low, high = _LIMITS[name]
    if not low <= number <= high:
        raise ValueError(f"{where}: {name} must be between {low:g} and {high:g}")
    return number


def load(
    path: Path | None = None, env: Mapping[str, str] | None = None, policy: Policy | None = None
) -> DaemonSettings:
    """settings.toml, then the administrator's policy (its poll interval and warning margin
    win), then the ``VMS_TRAY_*`` variables (tests, the demo)."""
    path = path or paths.settings_file()
    policy = policy if policy is not None else load_policy()
    if policy.problem:
        log.warning("%s", policy.problem)
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    try:
        table = tomllib.loads(
            safefs.read_regular(path, safefs.CONFIG_LIMIT).decode("utf-8", errors="replace")
        ).get("daemon", {})
    except FileNotFoundError:
        table = {}
    except safefs.UnsafePath as exc:
        raise ConfigError(path, f"it {exc.problem}") from None
    except (OSError, tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ConfigError(path, f"cannot read it ({type(exc).__name__})") from None
    if not isinstance(table, dict):
        raise ConfigError(path, "[daemon] must be a table")
    names = {f.name for f in fields(DaemonSettings)}
    try:
        for key, value in table.items():
            if key not in names:
                log.warning("%s: unknown setting daemon.%s ignored", path, key)
                continue
            values[key] = _coerce(key, value, "settings.toml")
        if policy.poll_interval is not None:
            values["poll_interval"] = policy.poll_interval
        if policy.warn_margin is not None:
            values["warn_margin"] = policy.warn_margin
        for name in names:
            raw = env.get(f"VMS_TRAY_{name.upper()}")
            if raw:
                values[name] = _coerce(name, raw, f"VMS_TRAY_{name.upper()}")
    except ValueError as exc:
        raise ConfigError(path, str(exc)) from None
    return replace(DaemonSettings(), **values)
