"""The notifier of ``vms-tray run --headless``: one line on stderr, one in the log."""

from __future__ import annotations

import io
import logging

import pytest

from vms_tray.app.headless import HeadlessNotifier
from vms_tray.notify.base import Notice, NoticeKind

NOTICE = Notice(NoticeKind.LIMIT_FULL, "HQ", "3 of 3 sessions in use — no seats left")


def test_a_notice_is_one_line_on_the_stream_and_one_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stream = io.StringIO()
    with caplog.at_level(logging.WARNING, logger="vms_tray.notice"):
        HeadlessNotifier(stream).notify(NOTICE)
    assert stream.getvalue() == "vms-tray: HQ: 3 of 3 sessions in use — no seats left\n"
    assert [r.getMessage() for r in caplog.records] == [
        "notice limit_full: HQ: 3 of 3 sessions in use — no seats left"
    ]


def test_a_closed_stream_loses_only_the_printed_line(caplog: pytest.LogCaptureFixture) -> None:
    stream = io.StringIO()
    stream.close()  # a detached terminal
    with caplog.at_level(logging.WARNING, logger="vms_tray.notice"):
        HeadlessNotifier(stream).notify(NOTICE)
    assert len(caplog.records) == 1


def test_without_a_tray_the_notices_name_commands_not_buttons() -> None:
    notifier = HeadlessNotifier(io.StringIO())
    assert notifier.name == "headless"
    assert notifier.supports_actions is False
    assert notifier.cli_hints is True
