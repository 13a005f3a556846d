"""The daemon's ports: the stand-in that remembers nothing keeps nothing."""

from __future__ import annotations

from vms_tray.connections.model import Connection
from vms_tray.daemon.ports import Memory, NoMemory
from vms_tray.session.records import Tokens

OFFICE = Connection("office", "https://office.example", "anna")


def test_no_memory_remembers_nothing() -> None:
    memory: Memory = NoMemory()
    memory.keep_session(OFFICE, Tokens("a" * 43, 300.0, "r" * 43))
    memory.keep_device_token(OFFICE, "d" * 43)
    assert memory.session(OFFICE) is None
    assert memory.device_token(OFFICE) is None
    memory.forget_session(OFFICE)  # nothing to forget, no error
