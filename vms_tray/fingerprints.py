"""A certificate's fingerprint in the project's pin form: SHA-256 over the DER bytes as
colon-separated upper-case hex (``AB:CD:...``), what ``Trust.pin_sha256`` stores.

On the ground floor because the client (``net/tls.py``: the pin check, the certificate shown to
the user) and the reference server (``refserver/tls.py``: the fingerprint it prints), which share
nothing else, must compute it alike.
"""

from __future__ import annotations

import hashlib

__all__ = ["fingerprint_sha256"]


def fingerprint_sha256(der: bytes) -> str:
    """SHA-256 of a DER certificate as colon-separated upper-case hex (``AB:CD:...``)."""
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
