"""``python -m vms_tray.dialogs NAME``: the entry refuses what is no dialog or no request, and
cancels without a display."""

from __future__ import annotations

import json
import subprocess
import sys


def test_dialog_entry_rejects_unknown_names_and_bad_requests() -> None:
    bad = subprocess.run(
        [sys.executable, "-m", "vms_tray.dialogs", "nope"],
        input="{}\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert bad.returncode == 2 and "usage" in bad.stderr
    notjson = subprocess.run(
        [sys.executable, "-m", "vms_tray.dialogs", "about"],
        input="not json\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert notjson.returncode == 2 and "not JSON" in notjson.stderr


def test_without_a_display_the_dialog_cancels_instead_of_crashing() -> None:
    env = {k: v for k, v in __import__("os").environ.items() if k != "DISPLAY"}
    out = subprocess.run(
        [sys.executable, "-m", "vms_tray.dialogs", "about"],
        input="{}\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=env,
    )
    assert out.returncode == 1
    assert json.loads(out.stdout.splitlines()[-1]) == {"action": "cancel", "error": "no_display"}


def test_a_request_that_is_no_json_object_is_refused() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "vms_tray.dialogs", "about"],
        input="[1, 2]\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert out.returncode == 2
    assert "must be a JSON object" in out.stderr
    assert out.stdout == ""  # no answer: the caller sees the failure
