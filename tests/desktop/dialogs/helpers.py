"""What the desktop dialog tests share: the requests' server and session lists, and counting the
events a dialog sent."""

from __future__ import annotations

from tests.desktop.conftest import DialogDriver

SERVERS = [
    {"name": "HQ", "login": "operator", "default": True, "saved_password": False},
    {"name": "Branch", "login": "guard", "default": False, "saved_password": True},
]


SESSIONS = [
    {
        "id": "s-mine",
        "device": "THIS-PC",
        "software": "vms-tray",
        "version": "0.1.0",
        "address": "10.0.0.5",
        "started_at": "2026-11-27T08:00:00Z",
        "last_activity": "2026-11-27T09:59:00Z",
        "idle": False,
        "current": True,
    },
    {
        "id": "s-old-idle",
        "device": "OPS-PC-12",
        "software": "VMS Client",
        "version": "5.2",
        "address": "10.0.0.12",
        "started_at": "2026-11-26T07:00:00Z",
        "last_activity": "2026-11-27T06:00:00Z",
        "idle": True,
        "current": False,
    },
    {
        "id": "s-busy",
        "device": "WALL-3",
        "software": "VMS Client",
        "version": "5.2",
        "address": "10.0.0.30",
        "started_at": "2026-11-27T05:00:00Z",
        "last_activity": "2026-11-27T09:58:00Z",
        "idle": False,
        "current": False,
    },
]

# The User Sessions request at the limit: HQ's 3 seats all taken by SESSIONS, at a fixed time.
AT_THE_LIMIT = {
    "server": "HQ",
    "conflict": True,
    "max": 3,
    "active": 3,
    "now": "2026-11-27T10:00:00Z",
    "sessions": SESSIONS,
}


def count_events(dialogs: DialogDriver, event: str) -> int:
    return sum(1 for e in dialogs.events if e["event"] == event)
