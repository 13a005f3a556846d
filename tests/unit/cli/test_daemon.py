"""The daemon's commands (vms_tray.cli.daemon): how a sign-in's end is worded (each thing said
once), ``sessions end ID`` with ids that begin with '-' (token_urlsafe), and the ``sessions``
table (column headers; nothing a server sends can drive the terminal)."""

from __future__ import annotations

from typing import Any

import pytest

from vms_tray import i18n
from vms_tray.cli import build_parser
from vms_tray.cli.daemon import _outcome, session_rows

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


def test_signed_out_text_follows_what_the_server_can_free() -> None:
    from vms_tray.cli.daemon import signed_out_text

    assert signed_out_text({"server": "HQ", "sign_out_frees_seat": True}) == (
        "Signed out of HQ; its session seat is free."
    )
    zm = signed_out_text({"server": "zm", "sign_out_frees_seat": False})
    assert "Nothing is freed on the server" in zm and "valid until it expires" in zm
    assert "seat is free" not in zm
