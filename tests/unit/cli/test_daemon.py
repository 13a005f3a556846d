"""The daemon's commands (vms_tray.cli.daemon): how a sign-in's end is worded (each thing said
once), ``sessions end ID`` with ids that begin with '-' (token_urlsafe), and the ``sessions``
table (column headers; nothing a server sends can drive the terminal)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest

from vms_tray import i18n
from vms_tray.cli import build_parser
from vms_tray.cli.daemon import _outcome, session_rows
from vms_tray.text import recommended

DASH_ID = "-F7nm4lzF--iNz1F"
ATTACK = "EVIL\x1b]0;title\x07\x1b[2J"


def test_a_sign_in_that_meets_an_outage_says_once_that_vms_tray_retries(
    capsys: pytest.CaptureFixture[str],
) -> None:
    error = "HQ did not answer within 15 s: the server is slow or down; vms-tray will retry"
    code = _outcome({"state": "reconnecting", "server": "HQ", "last_error": error})
    out = capsys.readouterr().out.strip()
    assert code == 1
    assert out == "HQ did not answer within 15 s: the server is slow or down; vms-tray will retry."
    assert out.count("retry") + out.count("keeps trying") == 1


def test_without_a_message_the_outage_is_still_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert _outcome({"state": "reconnecting", "server": "HQ", "last_error": None}) == 1
    assert capsys.readouterr().out.strip() == "HQ does not answer; vms-tray keeps trying."


@pytest.mark.parametrize(
    "argv",
    [
        ["sessions", "end", DASH_ID],
        ["sessions", "end", DASH_ID, "--yes"],
        ["sessions", "end", "--yes", DASH_ID],
        ["sessions", "end", "--yes", "--", DASH_ID],
        ["sessions", "end", "--", DASH_ID],
    ],
)
def test_an_id_beginning_with_a_dash_is_the_id(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert args.id == DASH_ID
    assert args.yes == ("--yes" in argv)


@pytest.mark.parametrize("session_id", ["-hX7nm4lzF--iNz1", "--yesX7nm4lzF-iN", "-y=zF--iNz1Fabc"])
def test_an_id_that_looks_like_an_option_prefix_is_still_the_id(session_id: str) -> None:
    args = build_parser().parse_args(["sessions", "end", session_id])
    assert args.id == session_id and args.yes is False


def test_a_missing_id_names_the_double_dash(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["sessions", "end", "--yes"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "required: ID" in err and "sessions end -- ID" in err


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


NOW = datetime(2026, 11, 27, 6, 30, tzinfo=UTC)


def test_the_list_has_column_headers_aligned_with_the_rows() -> None:
    i18n.install("en")
    header, mine, theirs = session_rows(
        [session(id="abc", device="desk", current=True), session(idle=True)], NOW
    )
    columns = ["ID", "DEVICE", "SOFTWARE", "ADDRESS", "SINCE", "LAST ACTIVITY", "NOTE"]
    assert [c.strip() for c in header.split("  ") if c.strip()] == columns
    assert mine.split()[:3] == ["abc", "desk", "vms-tray"] and mine.endswith("this session")
    assert theirs.startswith("-F7nm4lzF--iNz1F  OPS-PC-12")
    assert theirs.endswith("idle, recommended")
    assert header.index("DEVICE") == mine.index("desk") == theirs.index("OPS-PC-12")
    assert header.index("SINCE") == theirs.index("2026-11-27 06:00")
    assert header.index("LAST ACTIVITY") == theirs.index("29 min ago")


def test_the_recommended_mark_is_the_sessions_windows_choice() -> None:
    # The CLI and the User Sessions window recommend the same session (one function).
    i18n.install("en")
    listed = [
        session(id="mine", current=True, idle=True, last_activity="2026-11-27T05:00:00Z"),
        session(id="busy", last_activity="2026-11-27T06:29:00Z"),
        session(id="old", last_activity="2026-11-27T06:10:00Z"),
        session(id="never", last_activity=None),  # unknown counts as the least recent
    ]
    assert recommended(listed) == "never"
    rows = session_rows(listed, NOW)
    marked = [row.split()[0] for row in rows[1:] if row.endswith("recommended")]
    assert marked == ["never"]
    assert "this session, idle" in rows[1] and "recommended" not in rows[1]
    listed[3]["idle"] = False
    listed[2]["idle"] = True
    assert [row.split()[0] for row in session_rows(listed, NOW) if "recommended" in row] == ["old"]
    assert [row for row in session_rows(listed[:1], NOW) if "recommended" in row] == []


def test_a_kind_without_start_times_keeps_the_table_readable() -> None:
    # AIPIX reports no start time and may not report the last activity: "unknown", aligned.
    i18n.install("en")
    header, row = session_rows([session(started_at=None, last_activity=None)], NOW)
    assert header.index("SINCE") == row.index("unknown")
    assert header.index("LAST ACTIVITY") == row.index("unknown", header.index("SINCE") + 1)
    assert row.endswith("recommended")


def test_control_and_bidi_characters_from_the_server_are_printed_as_escapes() -> None:
    rows = session_rows(
        [session(device=ATTACK, software="vms\u202etray", address="10.0.0.1\n", id="x\x07")]
    )
    text = "\n".join(rows)
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert len(rows) == 2  # no line break smuggled in
    assert "EVIL\\x1b]0;title\\x07\\x1b[2J" in rows[1] and "vms\\u202etray" in rows[1]


def test_signed_out_text_follows_what_the_server_can_free() -> None:
    from vms_tray.cli.daemon import signed_out_text

    assert signed_out_text({"server": "HQ", "sign_out_frees_seat": True}) == (
        "Signed out of HQ; its session seat is free."
    )
    zm = signed_out_text({"server": "zm", "sign_out_frees_seat": False})
    assert "Nothing is freed on the server" in zm and "valid until it expires" in zm
    assert "seat is free" not in zm


def test_the_sessions_table_loads_no_tk() -> None:
    # The recommendation is the dialog's, but 'vms-tray sessions' must not start Tk to reach it.
    code = (
        "import sys; from vms_tray.cli.daemon import session_rows;"
        "session_rows([{'id': 'a', 'device': 'd', 'software': 's', 'version': '', 'address': 'x',"
        " 'started_at': None, 'last_activity': None, 'idle': True, 'current': False}]);"
        "print('tkinter' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    assert out.stdout.split() == ["False"]
