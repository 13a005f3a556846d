"""``vms-tray sessions end ID``: session ids are token_urlsafe, so one may begin with '-'."""

from __future__ import annotations

import pytest

from vms_tray.cli import build_parser

DASH_ID = "-F7nm4lzF--iNz1F"


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
