"""The service templates shipped in the wheel (``vms_tray/data/service_templates``).

Placeholders are ``@name@`` (autoconf style), so the ``$`` of shell, systemd and XDG paths in the
files' comments needs no escaping. Every placeholder must be given a value, and every value must
be used: a template and its caller cannot drift apart silently.
"""

from __future__ import annotations

import re
from importlib import resources

_PLACEHOLDER = re.compile(r"@([a-z_]+)@")


def read(name: str) -> str:
    path = resources.files("vms_tray").joinpath("data", "service_templates", name)
    return path.read_text(encoding="utf-8")


def read_bytes(*parts: str) -> bytes:
    return resources.files("vms_tray").joinpath("data", *parts).read_bytes()


def render(name: str, **values: str) -> str:
    text = read(name)
    used: set[str] = set()

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise KeyError(f"template {name} needs a value for @{key}@")
        used.add(key)
        return values[key]

    out = _PLACEHOLDER.sub(fill, text)
    unused = set(values) - used
    if unused:
        raise KeyError(f"template {name} has no placeholder for {sorted(unused)}")
    return out
