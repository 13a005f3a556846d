"""The reference server's ``Store`` plus the one thing AIPIX keeps per session beyond it.

Sessions, users and token hashes live in the reference tables (a ``SessionRow``'s ``device``,
``software`` and ``version`` hold AIPIX's ``user_agent``, ``client`` and X-Version). The extra
table holds the session's X-UUID (note §1) and its ``access_token_id``, which names its websocket
channel (note §3 E3, E12).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vms_tray.refserver.storage import Store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS aipix_sessions (
    session_id TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    uuid TEXT NOT NULL,
    token_id TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class AipixSession:
    session_id: str
    uuid: str
    token_id: str


class AipixStore(Store):
    def __init__(self, path: Path | str) -> None:
        super().__init__(path)
        with self._lock:
            self._conn.executescript(_SCHEMA)

    def insert_extra(self, extra: AipixSession) -> None:
        self._run(
            "INSERT INTO aipix_sessions (session_id, uuid, token_id) VALUES (?, ?, ?)",
            (extra.session_id, extra.uuid, extra.token_id),
        )

    def session_extra(self, session_id: str) -> AipixSession | None:
        row = self._one("SELECT * FROM aipix_sessions WHERE session_id = ?", (session_id,))
        if row is None:
            return None
        return AipixSession(row["session_id"], row["uuid"], row["token_id"])

    def sessions_of_device(self, login: str, uuid: str) -> list[str]:
        rows = self._all(
            "SELECT s.id FROM sessions s JOIN aipix_sessions a ON a.session_id = s.id "
            "WHERE s.login = ? AND s.ended_at IS NULL AND a.uuid = ?",
            (login, uuid),
        )
        return [str(r["id"]) for r in rows]
