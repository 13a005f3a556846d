"""The reference server's clocks: the system's, and the one a test in another process moves
through a file (``--clock-file``)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from vms_tray.refserver.clock import FileOffsetClock, ServerClock, SystemServerClock


def test_the_system_clock_is_the_wall_clock() -> None:
    clock: ServerClock = SystemServerClock()
    before = time.time()
    now = clock.now()
    assert before <= now <= time.time()


def test_no_file_is_no_offset(tmp_path: Path) -> None:
    clock = FileOffsetClock(tmp_path / "clock-offset")
    assert clock.offset() == 0.0


@pytest.mark.parametrize(("text", "offset"), [("90", 90.0), (" 12.5\n", 12.5), ("-3", -3.0)])
def test_the_file_holds_seconds_added_to_the_real_clock(
    tmp_path: Path, text: str, offset: float
) -> None:
    path = tmp_path / "clock-offset"
    path.write_text(text, encoding="utf-8")
    clock = FileOffsetClock(path)
    assert clock.offset() == offset
    before = time.time()
    now = clock.now()
    assert before + offset <= now <= time.time() + offset


def test_the_file_is_read_again_on_every_call(tmp_path: Path) -> None:
    path = tmp_path / "clock-offset"
    clock = FileOffsetClock(path)
    path.write_text("60", encoding="utf-8")
    assert clock.offset() == 60.0
    path.write_text("3600", encoding="utf-8")
    assert clock.offset() == 3600.0
    path.unlink()
    assert clock.offset() == 0.0


def test_an_empty_file_is_no_offset_and_no_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "clock-offset"
    path.write_text("  \n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, "vms_tray.refserver.clock"):
        assert FileOffsetClock(path).offset() == 0.0
    assert caplog.records == []


def test_a_file_that_is_no_number_is_no_offset_and_warns_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "clock-offset"
    path.write_text("an hour", encoding="utf-8")
    clock = FileOffsetClock(path)
    with caplog.at_level(logging.WARNING, "vms_tray.refserver.clock"):
        assert clock.offset() == 0.0
        assert clock.offset() == 0.0
    (record,) = caplog.records
    assert record.getMessage() == f"clock file {path} does not hold a number of seconds"


def test_an_unreadable_file_is_no_offset_and_warns_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "clock-offset"
    path.mkdir()  # reading a directory is an OSError other than FileNotFoundError
    clock = FileOffsetClock(path)
    with caplog.at_level(logging.WARNING, "vms_tray.refserver.clock"):
        assert clock.offset() == 0.0
        before = time.time()
        assert before <= clock.now() <= time.time()
    (record,) = caplog.records
    assert record.getMessage().startswith(f"cannot read clock file {path}: ")
