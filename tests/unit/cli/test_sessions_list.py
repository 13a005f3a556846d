"""``vms-tray sessions``: a table with column headers, and nothing a server sends can drive the
terminal."""

from __future__ import annotations

from typing import Any

from vms_tray import i18n
from vms_tray.cli.daemon import session_rows

ATTACK = "EVIL\x1b]0;title\x07\x1b[2J"


def session(**changes: Any) -> dict[str, Any]:
    s: dict[str, Any] = {
        "id": "-F7nm4lzF--iNz1F",
        "device": "OPS-PC-12",
        "software": "vms-tray",
        "version": "1.0",
        "address": "10.0.0.12",
        "started_at": "2026-11-27T06:00:00Z",
        "last_activity": "2026-11-27T06:01:00Z",
        "idle": False,
        "current": False,
    }
    return {**s, **changes}


def test_the_list_has_column_headers_aligned_with_the_rows() -> None:
    i18n.install("en")
    header, mine, theirs = session_rows(
        [session(id="abc", device="desk", current=True), session(idle=True)]
    )
    assert header.split() == ["ID", "DEVICE", "SOFTWARE", "ADDRESS", "SINCE", "NOTE"]
    assert mine.split()[:3] == ["abc", "desk", "vms-tray"] and mine.endswith("this session")
    assert theirs.startswith("-F7nm4lzF--iNz1F  OPS-PC-12") and theirs.endswith("idle")
    assert header.index("DEVICE") == mine.index("desk") == theirs.index("OPS-PC-12")
    assert header.index("SINCE") == theirs.index("2026-11-27 06:00")


def test_control_and_bidi_characters_from_the_server_are_printed_as_escapes() -> None:
    rows = session_rows(
        [session(device=ATTACK, software="vms\u202etray", address="10.0.0.1\n", id="x\x07")]
    )
    text = "\n".join(rows)
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert len(rows) == 2  # no line break smuggled in
    assert "EVIL\\x1b]0;title\\x07\\x1b[2J" in rows[1] and "vms\\u202etray" in rows[1]
