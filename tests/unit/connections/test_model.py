"""connections.model: the one list of kinds, the canonical form of a pinned fingerprint, and the
connection's JSON shape (what the tray and the server-list dialog exchange)."""

from __future__ import annotations

import json

import pytest

from vms_tray.connections.model import (
    DEFAULT_KIND,
    KINDS,
    KNOWN_KINDS,
    Connection,
    Trust,
    connection_from_json,
    connection_to_json,
    normalize_fingerprint,
)
from vms_tray.errors import InvalidInput


def test_known_kinds_are_the_kinds_in_order() -> None:
    assert KNOWN_KINDS == tuple(KINDS) == ("native", "zoneminder", "aipix")
    assert DEFAULT_KIND in KNOWN_KINDS


@pytest.mark.parametrize(
    "text",
    [
        "ab" * 32,
        ":".join(["ab"] * 32),
        " " + ":".join(["AB"] * 32) + "\n",
        "SHA256=" + "AB" * 32,
        "-".join(["ab"] * 32),
    ],
)
def test_normalize_fingerprint(text: str) -> None:
    assert normalize_fingerprint(text) == ":".join(["AB"] * 32)


@pytest.mark.parametrize("text", ["", "ab" * 31, "zz" * 32, "ab" * 33])
def test_normalize_fingerprint_rejects(text: str) -> None:
    with pytest.raises(InvalidInput, match="64 hexadecimal"):
        normalize_fingerprint(text)


def test_connection_json_round_trip_keeps_trust_and_client_type() -> None:
    c = Connection("HQ", "https://hq", "op", True, "zoneminder", Trust("pinned", None, "AB:CD"))
    d = connection_to_json(c)
    assert json.loads(json.dumps(d)) == d
    assert connection_from_json(d) == c
    typed = Connection("HQ", "https://hq", "op", kind="aipix", client_type="thin-web")
    assert connection_from_json(connection_to_json(typed)) == typed
