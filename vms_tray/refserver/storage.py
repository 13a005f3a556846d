"""Users, sessions, tokens and pending conflicts in SQLite (WAL), so a restart keeps them.

One connection shared by the server's worker threads behind a re-entrant lock; ``atomic()``
groups several calls into one ``BEGIN IMMEDIATE`` transaction (check-then-insert of a seat must
not race). Tokens are stored as SHA-256 hashes only (see ``tokens``).

Ended sessions stay as tombstones (``ended_at``, ``end_reason``, ``ended_by_*``) with their token
hashes, so a late request with such a token learns *why* it ended; ``purge`` drops them after the
tombstone lifetime.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vms_tray.errors import InvalidInput

SCHEMA_VERSION = 4  # 2: tokens.used_at; 3: devices; 4: waiters, handovers (created if missing)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    login TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    max_sessions INTEGER,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL,
    device TEXT NOT NULL,
    software TEXT NOT NULL,
    version TEXT NOT NULL,
    address TEXT NOT NULL,
    started_at REAL NOT NULL,
    last_activity REAL NOT NULL,
    refresh_expires_at REAL NOT NULL,
    ended_at REAL,
    end_reason TEXT,
    ended_by_device TEXT,
    ended_by_software TEXT
);
CREATE INDEX IF NOT EXISTS sessions_by_login ON sessions (login, ended_at);
CREATE INDEX IF NOT EXISTS sessions_open ON sessions (ended_at, last_activity);
CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    expires_at REAL NOT NULL,
    rotated_at REAL,
    used_at REAL
);
CREATE INDEX IF NOT EXISTS tokens_by_session ON tokens (session_id);
CREATE TABLE IF NOT EXISTS conflicts (
    hash TEXT PRIMARY KEY,
    login TEXT NOT NULL,
    device TEXT NOT NULL,
    software TEXT NOT NULL,
    version TEXT NOT NULL,
    address TEXT NOT NULL,
    expires_at REAL NOT NULL,
    session_ids TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS devices (
    hash TEXT PRIMARY KEY,
    login TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS devices_by_login ON devices (login, expires_at);
CREATE TABLE IF NOT EXISTS waiters (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    login TEXT NOT NULL,
    conflict_hash TEXT NOT NULL UNIQUE,
    expires_at REAL NOT NULL,
    first INTEGER NOT NULL DEFAULT 0,
    offered_until REAL
);
CREATE INDEX IF NOT EXISTS waiters_by_login ON waiters (login);
CREATE TABLE IF NOT EXISTS handovers (
    session_id TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    login TEXT NOT NULL,
    deadline REAL NOT NULL,
    device TEXT NOT NULL,
    software TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class User:
    login: str
    password_hash: str
    max_sessions: int | None
    created_at: float


@dataclass(frozen=True)
class SessionRow:
    id: str
    login: str
    device: str
    software: str
    version: str
    address: str
    started_at: float
    last_activity: float
    refresh_expires_at: float
    ended_at: float | None = None
    end_reason: str | None = None
    ended_by_device: str | None = None
    ended_by_software: str | None = None

    @property
    def active(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True)
class TokenRow:
    hash: str
    kind: str
    session_id: str
    expires_at: float
    rotated_at: float | None
    used_at: float | None = None  # access tokens: first use as a bearer


@dataclass(frozen=True)
class ConflictRow:
    hash: str
    login: str
    device: str
    software: str
    version: str
    address: str
    expires_at: float
    session_ids: tuple[str, ...]


def _session(row: sqlite3.Row) -> SessionRow:
    return SessionRow(**{k: row[k] for k in row.keys()})  # noqa: SIM118 (sqlite3.Row)


class Store:
    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=10
        )
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.executescript(_SCHEMA)
            self._migrate()
            self._conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)",
                (str(SCHEMA_VERSION),),
            )

    def _migrate(self) -> None:
        """Bring a database of an earlier schema up to date (CREATE ... IF NOT EXISTS leaves an
        existing table as it was)."""
        columns = {row["name"] for row in self._conn.execute("PRAGMA table_info(tokens)")}
        if "used_at" not in columns:  # schema 1
            self._conn.execute("ALTER TABLE tokens ADD COLUMN used_at REAL")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def atomic(self) -> Iterator[None]:
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._conn.execute("COMMIT")

    # Rows are fetched under the lock: the connection is shared by the worker threads.
    def _run(self, sql: str, args: tuple[object, ...] = ()) -> int:
        with self._lock:
            return self._conn.execute(sql, args).rowcount

    def _one(self, sql: str, args: tuple[object, ...] = ()) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._conn.execute(sql, args).fetchone()
            return row

    def _all(self, sql: str, args: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    # For refserver/queue.py's tables, in the service's transactions.
    def execute(self, sql: str, args: tuple[object, ...] = ()) -> int:
        return self._run(sql, args)

    def fetch_one(self, sql: str, args: tuple[object, ...] = ()) -> sqlite3.Row | None:
        return self._one(sql, args)

    def fetch_all(self, sql: str, args: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        return self._all(sql, args)

    # --- users ---------------------------------------------------------------------------------

    def add_user(
        self, login: str, password_hash: str, max_sessions: int | None, now: float
    ) -> None:
        with self.atomic():
            if self.get_user(login) is not None:
                raise InvalidInput(
                    f"user {login!r} already exists (use 'user passwd' to change it)"
                )
            self._run(
                "INSERT INTO users (login, password_hash, max_sessions, created_at) "
                "VALUES (?, ?, ?, ?)",
                (login, password_hash, max_sessions, now),
            )

    def get_user(self, login: str) -> User | None:
        row = self._one("SELECT * FROM users WHERE login = ?", (login,))
        if row is None:
            return None
        return User(row["login"], row["password_hash"], row["max_sessions"], row["created_at"])

    def list_users(self) -> list[User]:
        rows = self._all("SELECT * FROM users ORDER BY login")
        return [
            User(r["login"], r["password_hash"], r["max_sessions"], r["created_at"]) for r in rows
        ]

    def set_password(self, login: str, password_hash: str) -> bool:
        return (
            self._run("UPDATE users SET password_hash = ? WHERE login = ?", (password_hash, login))
            > 0
        )

    def set_max_sessions(self, login: str, max_sessions: int | None) -> bool:
        return (
            self._run("UPDATE users SET max_sessions = ? WHERE login = ?", (max_sessions, login))
            > 0
        )

    def remove_user(self, login: str) -> bool:
        with self.atomic():
            self._run("DELETE FROM conflicts WHERE login = ?", (login,))
            self._run("DELETE FROM devices WHERE login = ?", (login,))
            self._run("DELETE FROM sessions WHERE login = ?", (login,))
            return self._run("DELETE FROM users WHERE login = ?", (login,)) > 0

    # --- sessions ------------------------------------------------------------------------------

    def insert_session(self, s: SessionRow) -> None:
        self._run(
            "INSERT INTO sessions (id, login, device, software, version, address, started_at, "
            "last_activity, refresh_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                s.id,
                s.login,
                s.device,
                s.software,
                s.version,
                s.address,
                s.started_at,
                s.last_activity,
                s.refresh_expires_at,
            ),
        )

    def get_session(self, session_id: str) -> SessionRow | None:
        row = self._one("SELECT * FROM sessions WHERE id = ?", (session_id,))
        return None if row is None else _session(row)

    def active_sessions(self, login: str) -> list[SessionRow]:
        rows = self._all(
            "SELECT * FROM sessions WHERE login = ? AND ended_at IS NULL "
            "ORDER BY started_at, rowid",
            (login,),
        )
        return [_session(r) for r in rows]

    def count_active(self, login: str) -> int:
        row = self._one(
            "SELECT COUNT(*) FROM sessions WHERE login = ? AND ended_at IS NULL", (login,)
        )
        return int(row[0]) if row is not None else 0

    def touch(self, session_id: str, now: float, refresh_expires_at: float | None = None) -> None:
        if refresh_expires_at is None:
            self._run(
                "UPDATE sessions SET last_activity = MAX(last_activity, ?) "
                "WHERE id = ? AND ended_at IS NULL",
                (now, session_id),
            )
        else:
            self._run(
                "UPDATE sessions SET last_activity = MAX(last_activity, ?), refresh_expires_at = ? "
                "WHERE id = ? AND ended_at IS NULL",
                (now, refresh_expires_at, session_id),
            )

    def end_session(
        self,
        session_id: str,
        now: float,
        reason: str,
        ended_by: tuple[str, str] | None = None,
    ) -> bool:
        return (
            self._run(
                "UPDATE sessions SET ended_at = ?, end_reason = ?, ended_by_device = ?, "
                "ended_by_software = ? WHERE id = ? AND ended_at IS NULL",
                (
                    now,
                    reason,
                    ended_by[0] if ended_by else None,
                    ended_by[1] if ended_by else None,
                    session_id,
                ),
            )
            > 0
        )

    def expire_sessions(self, now: float, idle_timeout: float | None) -> int:
        """End each session past its idle timeout or refresh expiry, as of the moment it lapsed."""
        ended = 0
        with self.atomic():
            if idle_timeout:
                ended += self._run(
                    "UPDATE sessions SET ended_at = last_activity + ?, end_reason = 'idle_timeout' "
                    "WHERE ended_at IS NULL AND last_activity + ? < ? "
                    "AND last_activity + ? <= refresh_expires_at",
                    (idle_timeout, idle_timeout, now, idle_timeout),
                )
            ended += self._run(
                "UPDATE sessions SET ended_at = refresh_expires_at, end_reason = 'expired' "
                "WHERE ended_at IS NULL AND refresh_expires_at < ?",
                (now,),
            )
        return ended

    def purge(self, now: float, tombstone_ttl: float) -> None:
        """Forget tombstones, spent tokens and conflicts older than their usefulness."""
        with self.atomic():
            self._run(
                "DELETE FROM sessions WHERE ended_at IS NOT NULL AND ended_at < ?",
                (now - tombstone_ttl,),
            )
            self._run("DELETE FROM tokens WHERE expires_at < ?", (now - tombstone_ttl,))
            self._run("DELETE FROM conflicts WHERE expires_at < ?", (now,))
            self._run("DELETE FROM devices WHERE expires_at < ?", (now,))

    # --- device tokens (known devices: the throttle's ceilings do not stop them) ---------------

    def insert_device(self, dhash: str, login: str, expires_at: float, keep: int) -> None:
        """Remember a device token of ``login``; beyond ``keep`` of them, the soonest to expire
        go."""
        with self.atomic():
            self._run(
                "INSERT INTO devices (hash, login, expires_at) VALUES (?, ?, ?)",
                (dhash, login, expires_at),
            )
            self._run(
                "DELETE FROM devices WHERE login = ? AND hash NOT IN (SELECT hash FROM devices "
                "WHERE login = ? ORDER BY expires_at DESC LIMIT ?)",
                (login, login, keep),
            )

    def device_login(self, dhash: str, now: float) -> str | None:
        row = self._one("SELECT login FROM devices WHERE hash = ? AND expires_at > ?", (dhash, now))
        return None if row is None else str(row["login"])

    def touch_device(self, dhash: str, expires_at: float) -> None:
        self._run("UPDATE devices SET expires_at = ? WHERE hash = ?", (expires_at, dhash))

    # --- tokens --------------------------------------------------------------------------------

    def insert_token(self, thash: str, kind: str, session_id: str, expires_at: float) -> None:
        self._run(
            "INSERT INTO tokens (hash, kind, session_id, expires_at) VALUES (?, ?, ?, ?)",
            (thash, kind, session_id, expires_at),
        )

    def get_token(self, thash: str) -> TokenRow | None:
        row = self._one("SELECT * FROM tokens WHERE hash = ?", (thash,))
        if row is None:
            return None
        return TokenRow(
            row["hash"],
            row["kind"],
            row["session_id"],
            row["expires_at"],
            row["rotated_at"],
            row["used_at"],
        )

    def mark_used(self, thash: str, now: float) -> None:
        """Record an access token's first use (later uses write nothing)."""
        self._run("UPDATE tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL", (now, thash))

    def used_since(self, thash: str, session_id: str) -> bool:
        """Whether a token of the session issued after token ``thash`` has been used."""
        row = self._one(
            "SELECT 1 FROM tokens WHERE session_id = ? AND rowid > "
            "(SELECT rowid FROM tokens WHERE hash = ?) "
            "AND (used_at IS NOT NULL OR rotated_at IS NOT NULL) LIMIT 1",
            (session_id, thash),
        )
        return row is not None

    def mark_rotated(self, thash: str, now: float) -> bool:
        """Spend a refresh token; False when it was already spent (a concurrent reuse)."""
        return (
            self._run(
                "UPDATE tokens SET rotated_at = ? WHERE hash = ? AND rotated_at IS NULL",
                (now, thash),
            )
            > 0
        )

    def last_rotated(self, session_id: str) -> str | None:
        """Hash of the session's most recently spent refresh token (rowids only grow, so the
        latest insert is the latest rotation's token)."""
        row = self._one(
            "SELECT hash FROM tokens WHERE session_id = ? AND kind = 'refresh' "
            "AND rotated_at IS NOT NULL ORDER BY rowid DESC LIMIT 1",
            (session_id,),
        )
        return None if row is None else str(row["hash"])

    def revoke_issued_after(self, thash: str, session_id: str) -> int:
        """Delete the session's tokens issued after token ``thash`` (the pair its rotation made)."""
        return self._run(
            "DELETE FROM tokens WHERE session_id = ? AND rowid > "
            "(SELECT rowid FROM tokens WHERE hash = ?)",
            (session_id, thash),
        )

    # --- conflicts -----------------------------------------------------------------------------

    def insert_conflict(self, c: ConflictRow) -> None:
        self._run(
            "INSERT INTO conflicts (hash, login, device, software, version, address, expires_at, "
            "session_ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                c.hash,
                c.login,
                c.device,
                c.software,
                c.version,
                c.address,
                c.expires_at,
                json.dumps(list(c.session_ids)),
            ),
        )

    def get_conflict(self, thash: str) -> ConflictRow | None:
        row = self._one("SELECT * FROM conflicts WHERE hash = ?", (thash,))
        if row is None:
            return None
        return ConflictRow(
            row["hash"],
            row["login"],
            row["device"],
            row["software"],
            row["version"],
            row["address"],
            row["expires_at"],
            tuple(json.loads(row["session_ids"])),
        )

    def set_conflict_sessions(self, thash: str, session_ids: tuple[str, ...]) -> None:
        self._run(
            "UPDATE conflicts SET session_ids = ? WHERE hash = ?",
            (json.dumps(list(session_ids)), thash),
        )

    def delete_conflict(self, thash: str) -> bool:
        return self._run("DELETE FROM conflicts WHERE hash = ?", (thash,)) > 0
