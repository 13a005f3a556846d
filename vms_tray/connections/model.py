"""A server connection as the user configured it: the value objects, the kinds it may name, and
the canonical form of a pinned fingerprint (the rules of the list live in ``rules``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from vms_tray.errors import InvalidInput

TrustMode = Literal["system", "ca-file", "pinned"]
DEFAULT_KIND = "native"

# The one list of server kinds: name -> (module, class) of its implementation, in the order users
# see. Strings, not imports: kinds/ imports this package, so this package cannot import kinds/;
# vms_tray.kinds imports a kind's module only when it is used (listing kinds costs no httpx).
KINDS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "native": ("vms_tray.kinds.native", "NativeServer"),
        "zoneminder": ("vms_tray.kinds.zoneminder", "ZoneMinderServer"),
        "aipix": ("vms_tray.kinds.aipix", "AipixServer"),
    }
)
# The names alone, for choices and validation.
KNOWN_KINDS: tuple[str, ...] = tuple(KINDS)

_HEX64 = re.compile(r"[0-9A-F]{64}")


def normalize_fingerprint(text: str) -> str:
    """Accept a SHA-256 fingerprint as people paste it (any case, colons, spaces, dashes, a
    ``SHA256=`` prefix) and canonicalise it: colon-separated upper-case hex, as pins are stored.

    Raises InvalidInput when it is not 32 bytes of hex.
    """
    cleaned = re.sub(r"[\s:\-]", "", text.strip()).upper()
    if cleaned.startswith("SHA256"):
        cleaned = cleaned[len("SHA256") :].lstrip("=")
    if not _HEX64.fullmatch(cleaned):
        raise InvalidInput(
            "a SHA-256 fingerprint is 64 hexadecimal digits, optionally separated by colons "
            "(as 'vms-tray servers trust' shows it)"
        )
    return ":".join(cleaned[i : i + 2] for i in range(0, 64, 2))


@dataclass(frozen=True)
class Trust:
    """How the server's TLS certificate is trusted. There is no "don't verify" mode."""

    mode: TrustMode = "system"
    ca_file: str | None = None
    pin_sha256: str | None = None  # normalize_fingerprint's form: colon-separated upper hex


@dataclass(frozen=True)
class Connection:
    name: str
    url: str  # normalised https URL, no trailing slash
    login: str
    default: bool = False
    kind: str = DEFAULT_KIND
    trust: Trust = field(default_factory=Trust)
    # The client type a server may ask for (AIPIX's X-Client, docs/aipix.md); None: the kind's
    # default. Set in servers.toml as ``client_type``.
    client_type: str | None = None
    # The administrator's file this connection comes from (connections.managed); None: the
    # user's own. A managed connection cannot be edited, renamed or removed by the user.
    managed_by: str | None = None


# The JSON shape of a connection between the tray and the server-list dialog (a child process).
def connection_to_json(c: Connection) -> dict[str, Any]:
    return {
        "name": c.name,
        "url": c.url,
        "login": c.login,
        "default": c.default,
        "kind": c.kind,
        "trust": {
            "mode": c.trust.mode,
            "ca_file": c.trust.ca_file,
            "pin_sha256": c.trust.pin_sha256,
        },
        "client_type": c.client_type,
        "managed_by": c.managed_by,
    }


def connection_from_json(d: Mapping[str, Any]) -> Connection:
    """A user's row back from the dialog: ``managed_by`` is not taken from it (the tray decides
    which servers are the administrator's); ``client_type``, which the dialog does not edit,
    comes back as it went (saving the list from the dialog used to drop it)."""
    t = d.get("trust") or {}
    client_type = d.get("client_type")
    return Connection(
        name=str(d["name"]),
        url=str(d["url"]),
        login=str(d.get("login") or ""),
        default=bool(d.get("default")),
        kind=str(d.get("kind") or "native"),
        trust=Trust(
            mode=t.get("mode") or "system", ca_file=t.get("ca_file"), pin_sha256=t.get("pin_sha256")
        ),
        client_type=str(client_type) if client_type else None,
    )
