"""A server connection as the user configured it (the value object; rules live in ``config``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

TrustMode = Literal["system", "ca-file", "pinned"]
DEFAULT_KIND = "native"
# Server kinds a connection may name; implementations live in vms_tray.kinds.
KNOWN_KINDS = ("native", "zoneminder")


@dataclass(frozen=True)
class Trust:
    """How the server's TLS certificate is trusted. There is no "don't verify" mode."""

    mode: TrustMode = "system"
    ca_file: str | None = None
    pin_sha256: str | None = None  # colon-separated upper-case hex of SHA-256(DER)


@dataclass(frozen=True)
class Connection:
    name: str
    url: str  # normalised https URL, no trailing slash
    login: str
    default: bool = False
    kind: str = DEFAULT_KIND
    trust: Trust = field(default_factory=Trust)
