"""What vms-tray prints from a server is made harmless; suggested commands paste as they are."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vms_tray.text import command_line, limit_as_of, printable

ATTACK = "EVIL\x1b]0;title\x07\x1b[2J"


def test_terminal_escapes_are_shown_not_sent() -> None:
    shown = printable(ATTACK)
    assert shown == "EVIL\\x1b]0;title\\x07\\x1b[2J"
    assert "\x1b" not in shown and "\x07" not in shown


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\x00b", "a\\x00b"),
        ("line\nbreak\r\ttab", "line\\x0abreak\\x0d\\x09tab"),
        ("del\x7f", "del\\x7f"),
        ("c1\x9b2J", "c1\\x9b2J"),  # CSI in its 8-bit form
        ("c1\x85next", "c1\\x85next"),  # NEL
        ("admin\u202etxt.exe", "admin\\u202etxt.exe"),  # RIGHT-TO-LEFT OVERRIDE
        ("\u2066iso\u2069", "\\u2066iso\\u2069"),
        ("\u200e\u200f\u061c", "\\u200e\\u200f\\u061c"),
        ("sep\u2028par\u2029", "sep\\u2028par\\u2029"),
    ],
)
def test_control_and_bidi_characters_become_their_escapes(raw: str, shown: str) -> None:
    assert printable(raw) == shown


@pytest.mark.parametrize("text", ["OPS-PC-12", "Склад №2 камеры", "東京 カメラ", "naïve – ok", ""])
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert printable(text) == text


@given(st.text())
def test_printable_is_idempotent_and_leaves_nothing_unsafe(text: str) -> None:
    once = printable(text)
    assert printable(once) == once
    assert all(ord(ch) >= 0x20 and not 0x7F <= ord(ch) <= 0x9F for ch in once)
    assert not set(once) & set("\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e")
    assert not set(once) & set("\u2066\u2067\u2068\u2069")


def test_a_command_with_a_name_with_spaces_and_cyrillic_pastes_as_it_is() -> None:
    line = command_line("servers", "trust", "Склад №2 камеры")
    assert line == "vms-tray servers trust 'Склад №2 камеры'"
    assert shlex.split(line) == ["vms-tray", "servers", "trust", "Склад №2 камеры"]


@pytest.mark.parametrize("name", ["office", "it's", "$(rm -rf ~)", "-x", 'a"b', ""])
def test_every_argument_comes_back_as_one_word(name: str) -> None:
    assert shlex.split(command_line("password", "set", name)) == [
        "vms-tray",
        "password",
        "set",
        name,
    ]


def test_a_plain_name_is_not_quoted() -> None:
    assert command_line("servers", "trust", "office") == "vms-tray servers trust office"


def test_a_learnt_limit_is_shown_with_its_date() -> None:
    """Issue 11: "3 sessions in use (limit 4, as of 12 May)" where the limit may be stale. Noon
    UTC is the same day in every time zone within twelve hours of it."""
    assert limit_as_of(3, 4, "2026-05-12T12:00:00Z") == (
        "3 sessions in use (limit 4, as of 2026-05-12)"
    )
    assert limit_as_of(1, 4, datetime(2026, 5, 12, 12, tzinfo=UTC)) == (
        "1 session in use (limit 4, as of 2026-05-12)"
    )
    assert limit_as_of(2, 4, "2026-05-12 garbled").endswith("as of 2026-05-12)")
