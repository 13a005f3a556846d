"""The service templates (top-level ``service_templates/``, shipped in the wheel; vms_tray.assets).

Placeholders are ``@name@`` (autoconf style), so the ``$`` of shell, systemd and XDG paths in the
files' comments needs no escaping. Every placeholder must be given a value, and every value must
be used: a template and its caller cannot drift apart silently.
"""

from __future__ import annotations

import re

from vms_tray import assets

_PLACEHOLDER = re.compile(r"@([a-z_]+)@")


def read(name: str) -> str:
    return assets.template(name).read_text(encoding="utf-8")


def read_bytes(folder: str, name: str) -> bytes:
    return assets.asset(folder, name).read_bytes()


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
