"""The daemon's log: the redacting filter, and the rotating file in a private folder."""

from __future__ import annotations

import logging

from vms_tray.app.logs import Redactor


def test_redactor_masks_secrets_in_messages_args_and_tracebacks() -> None:
    r = Redactor()
    r.add("tok-abcdef-123456")
    r.add("pw")  # too short to mask safely: ignored
    logger = logging.getLogger("test.redact")
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    h = Keep()
    h.addFilter(r)
    logger.addHandler(h)
    try:
        logger.warning("got %s", "Bearer tok-abcdef-123456")
        try:
            raise ValueError("bad token tok-abcdef-123456")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(h)
    joined = "\n".join(records)
    assert "tok-abcdef-123456" not in joined
    assert joined.count("[redacted]") >= 2
