"""The package itself: importing it keeps httpx's command-line client (click, rich) out."""

from __future__ import annotations

import subprocess
import sys


def test_httpx_is_imported_without_its_command_line_client() -> None:
    code = (
        "import sys, vms_tray.net.http, httpx\n"
        "loaded = [m for m in ('httpx._main', 'click', 'rich', 'pygments') if sys.modules.get(m)]\n"
        "print(loaded, httpx.main.__module__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert out == ["[]", "httpx"]  # the stub httpx keeps when _main cannot be imported
