"""The last resort: notices go to the log (and optionally a stream such as stderr)."""

from __future__ import annotations

import contextlib
import logging
from typing import TextIO

from vms_tray.notify.base import Notice, Notifier

log = logging.getLogger("vms_tray.notice")


class LogNotifier(Notifier):
    name = "log"
    supports_actions = False

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self.stream = stream
        self.sent: list[Notice] = []
        self.withdrawn: list[str] = []  # topics taken back ("*": all), for tests

    def notify(self, notice: Notice) -> None:
        self.sent.append(notice)
        log.warning("%s: %s", notice.title, notice.body)
        if self.stream is not None:
            # A closed or broken stream: the log line is enough.
            with contextlib.suppress(OSError, ValueError):
                print(f"vms-tray: {notice.title}: {notice.body}", file=self.stream, flush=True)

    def withdraw(self, topic: str) -> None:
        if any(n.topic == topic for n in self.sent):
            self.withdrawn.append(topic)
            log.debug("notice on %s withdrawn", topic)

    def withdraw_all(self) -> None:
        self.withdrawn.append("*")
