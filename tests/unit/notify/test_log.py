"""The last resort: notices go to the log, and to a stream if one is given."""

from __future__ import annotations

import io

from vms_tray.notify import LogNotifier
from vms_tray.notify.base import Notice, NoticeKind


def test_log_notifier_writes_one_line() -> None:
    buf = io.StringIO()
    LogNotifier(stream=buf).notify(Notice(NoticeKind.INFO, "Title", "Body"))
    assert buf.getvalue() == "vms-tray: Title: Body\n"


def test_log_notifier_never_raises_and_records_withdrawals() -> None:
    log = LogNotifier()
    n = Notice(NoticeKind.INFO, "t", "b", topic="seats")
    log.notify(n)
    log.withdraw("seats")
    log.withdraw("network")  # nothing was shown on it
    log.withdraw_all()
    assert log.sent == [n] and log.withdrawn == ["seats", "*"]
