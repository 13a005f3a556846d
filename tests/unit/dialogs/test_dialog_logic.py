"""The pure parts of the dialogs: session ordering and advice, server JSON, scaling, rules text."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from vms_tray import i18n
from vms_tray.connections.model import Connection, Trust, connection_from_json, connection_to_json
from vms_tray.dialogs.common import scale_factor
from vms_tray.dialogs.connections import explain
from vms_tray.dialogs.sessions import ago, order, recommended
from vms_tray.errors import DefaultProtected, DuplicateName, InvalidURL


@pytest.fixture(autouse=True)
def english() -> None:
    i18n.install("en")


def s(
    i: str, started: str, activity: str, idle: bool = False, current: bool = False
) -> dict[str, object]:
    return {
        "id": i,
        "started_at": started,
        "last_activity": activity,
        "idle": idle,
        "current": current,
    }


def test_sessions_are_listed_newest_first_so_the_earliest_is_at_the_bottom() -> None:
    rows = [
        s("mid", "2026-11-27T08:00:00Z", "2026-11-27T09:00:00Z"),
        s("old", "2026-11-26T08:00:00Z", "2026-11-27T09:00:00Z"),
        s("new", "2026-11-27T09:30:00+00:00", "2026-11-27T09:40:00Z"),
    ]
    assert [r["id"] for r in order(rows)] == ["new", "mid", "old"]


def test_recommendation_prefers_idle_then_least_recent_activity_never_ours() -> None:
    rows = [
        s("mine", "2026-11-20T00:00:00Z", "2026-11-20T00:00:00Z", current=True),
        s("busy-old", "2026-11-21T00:00:00Z", "2026-11-27T09:59:00Z"),
        s("idle-new", "2026-11-27T09:00:00Z", "2026-11-27T09:10:00Z", idle=True),
        s("idle-old", "2026-11-27T08:00:00Z", "2026-11-27T08:10:00Z", idle=True),
    ]
    assert recommended(rows) == "idle-old"
    assert recommended([r for r in rows if not r["idle"]]) == "busy-old"
    assert recommended([rows[0]]) is None


@pytest.mark.parametrize(
    ("ts", "text"),
    [
        ("2026-11-27T09:59:30Z", "just now"),
        ("2026-11-27T09:55:00Z", "5 min ago"),
        ("2026-11-27T07:00:00Z", "3 hours ago"),
        ("2026-11-20T10:00:00Z", "7 days ago"),
    ],
)
def test_ago(ts: str, text: str) -> None:
    assert ago(ts, datetime(2026, 11, 27, 10, tzinfo=UTC)) == text


def test_connection_json_round_trip_keeps_trust() -> None:
    c = Connection("HQ", "https://hq", "op", True, "zoneminder", Trust("pinned", None, "AB:CD"))
    d = connection_to_json(c)
    assert json.loads(json.dumps(d)) == d
    assert connection_from_json(d) == c


def test_rule_messages_are_phrased_for_the_dialog() -> None:
    assert "cannot be deleted" in explain(DefaultProtected("x"))
    assert "already exists" in explain(DuplicateName("x"))
    assert explain(InvalidURL("uses http://")) == "The address is not valid: uses http://"


@pytest.mark.parametrize(
    ("env", "dpi", "scale"),
    [
        ({"VMS_TRAY_SCALE": "2"}, None, 2.0),
        ({"VMS_TRAY_SCALE": "nonsense"}, 144.0, 1.5),
        ({"VMS_TRAY_SCALE": "9"}, None, 1.0),
        ({}, 192.0, 2.0),
        ({}, None, 1.0),
    ],
)
def test_scale_factor(env: dict[str, str], dpi: float | None, scale: float) -> None:
    assert scale_factor(env, xft_dpi=dpi if dpi is not None else 0.0) == scale


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
