"""The administrator's policy: ``policy.toml`` beside the managed servers file.

The API other modules use (nothing else here is public)::

    load_policy(path=None) -> Policy         never raises: a bad file is Policy.problem
        .path, .problem (one line, naming the file) | None
        .lock_servers, .forbid_remember_password, .force_autostart -> bool
        .poll_interval -> float | None, .warn_margin -> int | None
        .pins -> Mapping[str, str]           server name (name_key) -> SHA-256 fingerprint
        .pin_for(name) -> str | None
        .set -> tuple[str, ...]              the keys the file sets (for ``policy show``)

The file (``/etc/xdg/vms-tray/policy.toml``, :func:`vms_tray.paths.policy_file`)::

    lock_servers = true                  users cannot add servers of their own
    forbid_remember_password = true      no password is kept in the keyring
    force_autostart = true               start at login
    poll_interval = 60                   seconds; wins over the user's settings.toml
    warn_margin = 2
    [pins]
    Plant = "AB:CD:..."                  the certificate each named server must present

A malformed file (bad TOML, an unknown key, a wrong type) is ignored as a whole and reported in
one line: half a policy would be a surprise.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vms_tray import paths, safefs
from vms_tray.connections.model import normalize_fingerprint
from vms_tray.connections.rules import name_key
from vms_tray.errors import InvalidInput

__all__ = ["Policy", "load_policy"]

_FLAGS = ("lock_servers", "forbid_remember_password", "force_autostart")
_NUMBERS: Mapping[str, tuple[type, float, float]] = {
    "poll_interval": (float, 0.2, 86400),
    "warn_margin": (int, 0, 1000),
}


@dataclass(frozen=True)
class Policy:
    path: Path
    problem: str | None = None
    lock_servers: bool = False
    forbid_remember_password: bool = False
    force_autostart: bool = False
    poll_interval: float | None = None
    warn_margin: int | None = None
    pins: Mapping[str, str] = field(default_factory=dict)
    set: tuple[str, ...] = ()

    def pin_for(self, name: str) -> str | None:
        return self.pins.get(name_key(name))


class _Bad(Exception):
    pass


def _parse(doc: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in doc.items():
        if key in _FLAGS:
            if not isinstance(value, bool):
                raise _Bad(f"{key} must be true or false")
            values[key] = value
        elif key in _NUMBERS:
            kind, low, high = _NUMBERS[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _Bad(f"{key} must be a number")
            if kind is int and not isinstance(value, int):
                raise _Bad(f"{key} must be a whole number")
            if not low <= value <= high:
                raise _Bad(f"{key} must be between {low:g} and {high:g}")
            values[key] = kind(value)
        elif key == "pins":
            if not isinstance(value, dict):
                raise _Bad("[pins] must be a table of server name = fingerprint")
            pins: dict[str, str] = {}
            for name, pin in value.items():
                if not isinstance(pin, str):
                    raise _Bad(f"pins.{name} must be a string")
                try:
                    pins[name_key(name)] = normalize_fingerprint(pin)
                except InvalidInput as exc:
                    raise _Bad(f"pins.{name}: {exc}") from None
            values["pins"] = pins
        else:
            raise _Bad(f"unknown key {key!r}")
    return values


def load_policy(path: Path | None = None) -> Policy:
    path = path if path is not None else paths.policy_file()
    try:
        text = safefs.read_regular(path, safefs.CONFIG_LIMIT).decode("utf-8")
        values = _parse(tomllib.loads(text))
    except FileNotFoundError:
        return Policy(path)
    except safefs.UnsafePath as exc:
        problem = f"it {exc.problem}"
    except (OSError, UnicodeDecodeError) as exc:
        problem = f"cannot read it ({type(exc).__name__})"
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        problem = f"it is not valid TOML: {exc}"
    except _Bad as exc:
        problem = str(exc)
    else:
        return Policy(path, set=tuple(values), **values)
    return Policy(path, problem=f"{path}: {problem}; the policy is ignored")
