"""The notifier of ``vms-tray run --headless``: one line on stderr and one in the log.

A printed line cannot be taken back: ``withdraw`` keeps the base class's nothing-to-do.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import TextIO

from vms_tray.notify.base import Notice, Notifier

log = logging.getLogger("vms_tray.notice")


class HeadlessNotifier(Notifier):
    name = "headless"
    supports_actions = False
    cli_hints = True  # no tray, no buttons: the notice says which command to run

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self._stream = stream if stream is not None else sys.stderr

    def notify(self, notice: Notice) -> None:
        log.warning("notice %s: %s: %s", notice.kind.value, notice.title, notice.body)
        # A closed stream (detached terminal) is fine: the log has the line.
        with contextlib.suppress(OSError, ValueError):
            print(f"vms-tray: {notice.title}: {notice.body}", file=self._stream, flush=True)
