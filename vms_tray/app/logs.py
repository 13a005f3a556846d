"""Logging of the daemon: a rotating file in ``paths.log_dir()``, and a redacting filter.

vms-tray never logs a token, password or captcha answer on purpose; the filter is the second
line of defence: every secret the daemon handles is registered, and any record that would contain
one (a foreign library's debug line, an exception message) has it replaced before it is written.

The log folder is a private folder of the user's (``safefs.private_dir``) and the file is opened
with ``O_NOFOLLOW``: a symlink in its place is refused, never written through.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import threading
from pathlib import Path

from vms_tray import paths, safefs

LOG_NAME = "vms-tray.log"
_MASK = "[redacted]"
_MIN_SECRET = 4  # shorter strings would mask ordinary words


class Redactor(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: set[str] = set()

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= _MIN_SECRET:
            with self._lock:
                # Bounded: tokens rotate; the newest ones matter, old ones are already useless.
                if len(self._secrets) > 256:
                    self._secrets.clear()
                self._secrets.add(secret)

    def redact(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for s in secrets:
            if s in text:
                text = text.replace(s, _MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Exception text goes through the formatter later: pre-render and clean it here.
            formatter = logging.Formatter()
            record.exc_text = self.redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


REDACTOR = Redactor()


class _NoFollowHandler(logging.handlers.RotatingFileHandler):
    """A rotating file that is never opened through a symlink (0600, like the rest)."""

    def _open(self) -> io.TextIOWrapper:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(self.baseFilename, flags, 0o600)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


def console_handler() -> logging.Handler:
    """``--debug``'s records on stderr, through the same secret filter as the file. One at a
    time: ``setup`` replaces it with its own, so no line is printed twice."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_vms_tray_console", False)]:
        root.removeHandler(old)
    console = logging.StreamHandler()
    console.addFilter(REDACTOR)
    console._vms_tray = True  # type: ignore[attr-defined]
    console._vms_tray_console = True  # type: ignore[attr-defined]
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(console)
    return console


def setup(debug: bool = False, stream: bool = False, log_dir: Path | None = None) -> Path:
    """Send vms-tray's (and its libraries') records to the rotating file. Returns its path."""
    directory = log_dir or paths.log_dir()
    with safefs.opened_private_dir(directory, what="the log folder") as folder:
        path = directory / LOG_NAME
        if folder.is_symlink(LOG_NAME):
            raise safefs.UnsafePath(
                path, "is a symbolic link", "remove it and start vms-tray again"
            )
        try:
            handler = _NoFollowHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
        except OSError as exc:
            raise safefs.UnsafePath(
                path,
                f"cannot be opened ({exc.strerror or type(exc).__name__})",
                "check the log folder's permissions, or set VMS_TRAY_PROFILE to another folder",
            ) from None
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    )
    handler.addFilter(REDACTOR)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_vms_tray", False)]:
        root.removeHandler(old)
        old.close()
    handler._vms_tray = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    if stream and debug:
        console_handler()
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    if not debug:
        # Libraries are chatty at INFO (every HTTP request); their warnings still come through.
        for name in ("httpx", "httpcore", "apscheduler", "uvicorn", "hpack"):
            logging.getLogger(name).setLevel(logging.WARNING)
    return path
