"""Time as the reference server sees it: injectable so tests never sleep.

``FileOffsetClock`` lets a test in another process move a subprocess server's time forward: the
file holds an offset in seconds that is added to the real clock, and it is re-read on every call.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)


class ServerClock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...


class SystemServerClock:
    def now(self) -> float:
        return time.time()


class FileOffsetClock:
    """The real clock plus an offset read from ``path`` on each call (missing file: no offset)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._warned = False

    def offset(self) -> float:
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return 0.0
        except OSError as exc:
            self._warn("cannot read clock file %s: %s", exc)
            return 0.0
        if not text:
            return 0.0
        try:
            return float(text)
        except ValueError:
            self._warn("clock file %s does not hold a number of seconds%s", "")
            return 0.0

    def _warn(self, fmt: str, detail: object) -> None:
        if not self._warned:
            self._warned = True
            log.warning(fmt, self.path, detail)

    def now(self) -> float:
        return time.time() + self.offset()
