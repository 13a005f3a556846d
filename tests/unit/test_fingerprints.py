"""The pin form of a certificate's fingerprint, shared by the client and the reference server."""

from __future__ import annotations

import hashlib
import re

from vms_tray.connections.model import normalize_fingerprint
from vms_tray.fingerprints import fingerprint_sha256


def test_colon_separated_upper_case_sha256() -> None:
    fp = fingerprint_sha256(b"certificate")
    assert fp == ":".join(f"{b:02X}" for b in hashlib.sha256(b"certificate").digest())
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", fp)


def test_it_is_the_form_a_pin_is_stored_in() -> None:
    fp = fingerprint_sha256(b"certificate")
    assert normalize_fingerprint(fp.lower().replace(":", " ")) == fp
