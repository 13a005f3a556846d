"""The daemon's log: the redacting filter, and the rotating file in a private folder."""

from __future__ import annotations

import logging
from pathlib import Path

from vms_tray.app import logs
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


def test_debug_output_has_one_redacting_console_handler(tmp_path: Path) -> None:
    """``vms-tray --debug run`` printed every line twice (the CLI's handler and the daemon's),
    and the CLI's one did not redact secrets."""
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        logs.console_handler()  # what the CLI does for --debug
        logs.console_handler()
        logs.setup(debug=True, stream=True, log_dir=tmp_path)  # what 'run' does then
        consoles = [h for h in root.handlers if getattr(h, "_vms_tray_console", False)]
        assert len(consoles) == 1
        assert logs.REDACTOR in consoles[0].filters
    finally:
        for h in [h for h in root.handlers if h not in before]:
            root.removeHandler(h)
            h.close()
