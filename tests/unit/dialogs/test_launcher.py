"""The launcher runs a real child process; here a stand-in dialog program (a tiny Python script)
speaks the same line protocol, so the plumbing is tested without a display."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

from vms_tray.dialogs.launcher import DialogLauncher

FAKE = """
import json, sys
req = json.loads(sys.stdin.readline())
print(json.dumps({"event": "hello", "got": req["x"]}), flush=True)
for line in sys.stdin:
    upd = json.loads(line)["update"]
    if "y" in upd:
        print(json.dumps({"action": "done", "echo": upd["y"]}), flush=True)
        break
"""


def _launcher(tmp_path: Path, body: str) -> DialogLauncher:
    # The launcher runs "python SCRIPT -m vms_tray.dialogs NAME": the script ignores the rest.
    script = tmp_path / "fake_dialog.py"
    script.write_text(body)
    return DialogLauncher(python=sys.executable, extra_args=[str(script)])


def test_request_events_updates_and_answer(tmp_path: Path) -> None:
    launcher = _launcher(tmp_path, FAKE)
    answers: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    got = threading.Event()

    def on_answer(a: dict[str, Any]) -> None:
        answers.append(a)
        got.set()

    h = launcher.open("x", {"x": 1}, on_answer, events.append)
    assert h is not None
    # A second open of the same dialog updates the open one instead of starting another.
    assert launcher.open("x", {"ignored": True}, on_answer) is h
    assert h.send_update({"y": "updated"})
    assert got.wait(15)
    assert events == [{"event": "hello", "got": 1}]
    assert answers == [{"action": "done", "echo": "updated"}]
    assert launcher.current("x") is None


def test_a_crashing_dialog_answers_cancel(tmp_path: Path) -> None:
    launcher = _launcher(tmp_path, "import sys; sys.exit(3)\n")
    h = launcher.open("x", {}, lambda _a: None)
    assert h is not None
    assert h.wait(15) == {"action": "cancel"}
